-- The forwarder's topics into TensorZero's ClickHouse tables. Written against ClickHouse 24.8 and NOT tested
-- by this project's build (see README.md). Replace the broker list, topic prefix and consumer group.
--
-- Per topic: Kafka table (queue) -> view that drops what was already loaded -> Null table (new) -> two views:
-- one into TensorZero's table, one recording (source_id, spool_index) in forwarder_delivered. Both read the
-- same filtered block, so the order ClickHouse runs views in does not matter.

CREATE TABLE IF NOT EXISTS forwarder_delivered
(
    source_id   UUID,
    spool_index Int64,
    loaded_at   DateTime DEFAULT now()
)
ENGINE = ReplacingMergeTree
ORDER BY (source_id, spool_index)
TTL loaded_at + INTERVAL 7 DAY;

-- model_inference -------------------------------------------------------------------------------------
CREATE TABLE IF NOT EXISTS forwarder_model_inference_queue
(
    id UUID, inference_id UUID, raw_request String, raw_response String, system Nullable(String),
    input_messages String, output String, model_name String, model_provider_name String,
    input_tokens Nullable(UInt32), output_tokens Nullable(UInt32), response_time_ms Nullable(UInt32),
    ttft_ms Nullable(UInt32), cached Bool, finish_reason Nullable(String),
    provider_cache_read_input_tokens Nullable(UInt32), provider_cache_write_input_tokens Nullable(UInt32),
    cost Nullable(Decimal(18, 9)), snapshot_hash Nullable(UInt256)
)
ENGINE = Kafka
SETTINGS kafka_broker_list = 'kafka:9092', kafka_topic_list = 'tensorzero_model_inference',
         kafka_group_name = 'clickhouse-tensorzero', kafka_format = 'JSONEachRow',
         kafka_handle_error_mode = 'stream',
         input_format_json_read_objects_as_strings = 1, input_format_json_read_arrays_as_strings = 1,
         input_format_skip_unknown_fields = 1, input_format_null_as_default = 1;

CREATE TABLE IF NOT EXISTS forwarder_model_inference_new
(
    source_id UUID, spool_index Int64,
    id UUID, inference_id UUID, raw_request String, raw_response String, system Nullable(String),
    input_messages String, output String, model_name String, model_provider_name String,
    input_tokens Nullable(UInt32), output_tokens Nullable(UInt32), response_time_ms Nullable(UInt32),
    ttft_ms Nullable(UInt32), cached Bool, finish_reason Nullable(String),
    provider_cache_read_input_tokens Nullable(UInt32), provider_cache_write_input_tokens Nullable(UInt32),
    cost Nullable(Decimal(18, 9)), snapshot_hash Nullable(UInt256)
)
ENGINE = Null;

CREATE MATERIALIZED VIEW IF NOT EXISTS forwarder_model_inference_dedupe_mv TO forwarder_model_inference_new AS
SELECT * FROM
(
    SELECT toUUID(_headers.value[indexOf(_headers.name, 'source_id')]) AS source_id,
           toInt64(_headers.value[indexOf(_headers.name, 'spool_index')]) AS spool_index,
           id, inference_id, raw_request, raw_response, system, input_messages, output, model_name, model_provider_name, input_tokens, output_tokens, response_time_ms, ttft_ms, cached, finish_reason, provider_cache_read_input_tokens, provider_cache_write_input_tokens, cost, snapshot_hash
    FROM forwarder_model_inference_queue
    WHERE length(_error) = 0
)
WHERE (source_id, spool_index) NOT IN (SELECT source_id, spool_index FROM forwarder_delivered)
LIMIT 1 BY source_id, spool_index;

CREATE MATERIALIZED VIEW IF NOT EXISTS forwarder_model_inference_load_mv TO ModelInference AS
SELECT id, inference_id, raw_request, raw_response, system, input_messages, output, model_name, model_provider_name, input_tokens, output_tokens, response_time_ms, ttft_ms, cached, finish_reason, provider_cache_read_input_tokens, provider_cache_write_input_tokens, cost, snapshot_hash FROM forwarder_model_inference_new;

CREATE MATERIALIZED VIEW IF NOT EXISTS forwarder_model_inference_seen_mv TO forwarder_delivered AS
SELECT source_id, spool_index FROM forwarder_model_inference_new;

-- chat_inference --------------------------------------------------------------------------------------
CREATE TABLE IF NOT EXISTS forwarder_chat_inference_queue
(
    id UUID, function_name String, variant_name String, episode_id UUID, input String, output String,
    tool_params String, inference_params String, processing_time_ms Nullable(UInt32), ttft_ms Nullable(UInt32),
    tags Map(String, String), extra_body Nullable(String), dynamic_tools Array(String),
    dynamic_provider_tools Array(String), allowed_tools Nullable(String), tool_choice Nullable(String),
    parallel_tool_calls Nullable(Bool), snapshot_hash Nullable(UInt256)
)
ENGINE = Kafka
SETTINGS kafka_broker_list = 'kafka:9092', kafka_topic_list = 'tensorzero_chat_inference',
         kafka_group_name = 'clickhouse-tensorzero', kafka_format = 'JSONEachRow',
         kafka_handle_error_mode = 'stream',
         input_format_json_read_objects_as_strings = 1, input_format_json_read_arrays_as_strings = 1,
         input_format_skip_unknown_fields = 1, input_format_null_as_default = 1;

CREATE TABLE IF NOT EXISTS forwarder_chat_inference_new
(
    source_id UUID, spool_index Int64,
    id UUID, function_name String, variant_name String, episode_id UUID, input String, output String,
    tool_params String, inference_params String, processing_time_ms Nullable(UInt32), ttft_ms Nullable(UInt32),
    tags Map(String, String), extra_body Nullable(String), dynamic_tools Array(String),
    dynamic_provider_tools Array(String), allowed_tools Nullable(String), tool_choice Nullable(String),
    parallel_tool_calls Nullable(Bool), snapshot_hash Nullable(UInt256)
)
ENGINE = Null;

CREATE MATERIALIZED VIEW IF NOT EXISTS forwarder_chat_inference_dedupe_mv TO forwarder_chat_inference_new AS
SELECT * FROM
(
    SELECT toUUID(_headers.value[indexOf(_headers.name, 'source_id')]) AS source_id,
           toInt64(_headers.value[indexOf(_headers.name, 'spool_index')]) AS spool_index,
           id, function_name, variant_name, episode_id, input, output, tool_params, inference_params, processing_time_ms, ttft_ms, tags, extra_body, dynamic_tools, dynamic_provider_tools, allowed_tools, tool_choice, parallel_tool_calls, snapshot_hash
    FROM forwarder_chat_inference_queue
    WHERE length(_error) = 0
)
WHERE (source_id, spool_index) NOT IN (SELECT source_id, spool_index FROM forwarder_delivered)
LIMIT 1 BY source_id, spool_index;

CREATE MATERIALIZED VIEW IF NOT EXISTS forwarder_chat_inference_load_mv TO ChatInference AS
SELECT id, function_name, variant_name, episode_id, input, output, tool_params, inference_params, processing_time_ms, ttft_ms, tags, extra_body, dynamic_tools, dynamic_provider_tools, allowed_tools, tool_choice, parallel_tool_calls, snapshot_hash FROM forwarder_chat_inference_new;

CREATE MATERIALIZED VIEW IF NOT EXISTS forwarder_chat_inference_seen_mv TO forwarder_delivered AS
SELECT source_id, spool_index FROM forwarder_chat_inference_new;

-- json_inference --------------------------------------------------------------------------------------
CREATE TABLE IF NOT EXISTS forwarder_json_inference_queue
(
    id UUID, function_name String, variant_name String, episode_id UUID, input String, output String,
    inference_params String, processing_time_ms Nullable(UInt32), ttft_ms Nullable(UInt32),
    tags Map(String, String), extra_body Nullable(String), output_schema String, auxiliary_content String,
    snapshot_hash Nullable(UInt256)
)
ENGINE = Kafka
SETTINGS kafka_broker_list = 'kafka:9092', kafka_topic_list = 'tensorzero_json_inference',
         kafka_group_name = 'clickhouse-tensorzero', kafka_format = 'JSONEachRow',
         kafka_handle_error_mode = 'stream',
         input_format_json_read_objects_as_strings = 1, input_format_json_read_arrays_as_strings = 1,
         input_format_skip_unknown_fields = 1, input_format_null_as_default = 1;

CREATE TABLE IF NOT EXISTS forwarder_json_inference_new
(
    source_id UUID, spool_index Int64,
    id UUID, function_name String, variant_name String, episode_id UUID, input String, output String,
    inference_params String, processing_time_ms Nullable(UInt32), ttft_ms Nullable(UInt32),
    tags Map(String, String), extra_body Nullable(String), output_schema String, auxiliary_content String,
    snapshot_hash Nullable(UInt256)
)
ENGINE = Null;

CREATE MATERIALIZED VIEW IF NOT EXISTS forwarder_json_inference_dedupe_mv TO forwarder_json_inference_new AS
SELECT * FROM
(
    SELECT toUUID(_headers.value[indexOf(_headers.name, 'source_id')]) AS source_id,
           toInt64(_headers.value[indexOf(_headers.name, 'spool_index')]) AS spool_index,
           id, function_name, variant_name, episode_id, input, output, inference_params, processing_time_ms, ttft_ms, tags, extra_body, output_schema, auxiliary_content, snapshot_hash
    FROM forwarder_json_inference_queue
    WHERE length(_error) = 0
)
WHERE (source_id, spool_index) NOT IN (SELECT source_id, spool_index FROM forwarder_delivered)
LIMIT 1 BY source_id, spool_index;

CREATE MATERIALIZED VIEW IF NOT EXISTS forwarder_json_inference_load_mv TO JsonInference AS
SELECT id, function_name, variant_name, episode_id, input, output, inference_params, processing_time_ms, ttft_ms, tags, extra_body, output_schema, auxiliary_content, snapshot_hash FROM forwarder_json_inference_new;

CREATE MATERIALIZED VIEW IF NOT EXISTS forwarder_json_inference_seen_mv TO forwarder_delivered AS
SELECT source_id, spool_index FROM forwarder_json_inference_new;
