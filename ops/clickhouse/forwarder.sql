-- The forwarder's three topics into TensorZero's ClickHouse tables (ModelInference, ChatInference,
-- JsonInference, as TensorZero's migrations leave them at commit 7a6159a). Tested end to end by the build
-- against ClickHouse 26.7 (chdb) and a real broker: forwarder-app's ClickHouseRecipeIT. Replace the broker
-- list ('kafka:9092'), the topic prefix ('tensorzero_') and the consumer group prefix ('clickhouse_') before use.
--
-- Per topic:
--   Kafka table (_queue, its own consumer group) -- parse errors are kept as rows, not thrown
--     -> view _parse_mv:  rows that parsed and have an id  -> Null table _new (the queue's columns)
--          -> view _load_mv: rows whose id is not in TensorZero's table yet, once each -> TensorZero's table
--     -> view _dead_mv:   rows that did not parse, or have no id -> forwarder_dead_letters
--
-- Why this shape:
-- * Exactly once, even when a view fails. A SIGKILLed or restarted forwarder sends some records again (same
--   id, same source_id/spool_index headers). The dedupe reads TensorZero's table itself: a row is skipped if
--   its id is already there. The load is the only write that decides, so no "seen" table can claim a row the
--   load then failed to write (when any view fails, the Kafka engine does not commit and reads the block
--   again: the load view skips what it already wrote, the dead-letter table is keyed by topic, partition and
--   offset and collapses repeats).
-- * Bounded. The lookup is restricted by the target table's sort key taken from the block (inference_id for
--   ModelInference; function_name, variant_name, episode_id for the other two), so each block reads a few
--   granules, whatever the table's size. In views, the subquery over _new reads the inserted block.
-- * Nothing stalls the consumer and nothing disappears. kafka_handle_error_mode = 'stream' turns a message
--   ClickHouse cannot parse into a row with _error; it goes to forwarder_dead_letters with its raw text, topic,
--   partition, offset and headers. A message without headers loads like any other (headers are only copied
--   into dead letters, as text, never converted).
-- * The gateway's own insert settings: unknown fields and nulls in columns that are not Nullable are errors
--   (they become dead letters). If the forwarder runs with forwarder.schema.unknown_fields = carry, set
--   input_format_skip_unknown_fields = 1 on the Kafka tables.

CREATE TABLE IF NOT EXISTS forwarder_dead_letters
(
    topic       String,
    partition   UInt64,
    offset      UInt64,
    source_id   String,
    spool_index String,
    raw_message String,
    error       String,
    received_at DateTime DEFAULT now()
)
ENGINE = ReplacingMergeTree
ORDER BY (topic, partition, offset);

-- model_inference -------------------------------------------------------------------------------------
CREATE TABLE IF NOT EXISTS forwarder_model_inference_queue
(
    id UUID,
    inference_id UUID,
    raw_request String,
    raw_response String,
    model_name LowCardinality(String),
    model_provider_name LowCardinality(String),
    input_tokens Nullable(UInt32),
    output_tokens Nullable(UInt32),
    response_time_ms Nullable(UInt32),
    ttft_ms Nullable(UInt32),
    system Nullable(String),
    input_messages String,
    output String,
    cached Bool,
    finish_reason Nullable(Enum8('stop' = 1, 'length' = 2, 'tool_call' = 3, 'content_filter' = 4, 'unknown' = 5, 'stop_sequence' = 6)),
    snapshot_hash Nullable(UInt256),
    cost Nullable(Decimal(18, 9)),
    provider_cache_read_input_tokens Nullable(UInt32),
    provider_cache_write_input_tokens Nullable(UInt32),
    function_name LowCardinality(String),
    variant_name LowCardinality(String)
)
ENGINE = Kafka
SETTINGS kafka_broker_list = 'kafka:9092', kafka_topic_list = 'tensorzero_model_inference',
         kafka_group_name = 'clickhouse_tensorzero_model_inference', kafka_format = 'JSONEachRow',
         kafka_handle_error_mode = 'stream',
         input_format_skip_unknown_fields = 0, input_format_null_as_default = 0;

CREATE TABLE IF NOT EXISTS forwarder_model_inference_new AS forwarder_model_inference_queue ENGINE = Null;

CREATE MATERIALIZED VIEW IF NOT EXISTS forwarder_model_inference_load_mv TO ModelInference AS
SELECT id, inference_id, raw_request, raw_response, model_name, model_provider_name, input_tokens, output_tokens, response_time_ms, ttft_ms, system, input_messages, output, cached, finish_reason, snapshot_hash, cost, provider_cache_read_input_tokens, provider_cache_write_input_tokens, function_name, variant_name
FROM forwarder_model_inference_new
WHERE id NOT IN (
    SELECT id FROM ModelInference
    WHERE inference_id IN (SELECT inference_id FROM forwarder_model_inference_new))
LIMIT 1 BY id;

CREATE MATERIALIZED VIEW IF NOT EXISTS forwarder_model_inference_parse_mv TO forwarder_model_inference_new AS
SELECT id, inference_id, raw_request, raw_response, model_name, model_provider_name, input_tokens, output_tokens, response_time_ms, ttft_ms, system, input_messages, output, cached, finish_reason, snapshot_hash, cost, provider_cache_read_input_tokens, provider_cache_write_input_tokens, function_name, variant_name
FROM forwarder_model_inference_queue
WHERE length(_error) = 0 AND id != toUUID('00000000-0000-0000-0000-000000000000');

CREATE MATERIALIZED VIEW IF NOT EXISTS forwarder_model_inference_dead_mv TO forwarder_dead_letters AS
SELECT _topic AS topic, _partition AS partition, _offset AS offset,
       _headers.value[indexOf(_headers.name, 'source_id')] AS source_id,
       _headers.value[indexOf(_headers.name, 'spool_index')] AS spool_index,
       if(length(_error) > 0, _raw_message, formatRowNoNewline('JSONEachRow', id, inference_id, raw_request, raw_response, model_name, model_provider_name, input_tokens, output_tokens, response_time_ms, ttft_ms, system, input_messages, output, cached, finish_reason, snapshot_hash, cost, provider_cache_read_input_tokens, provider_cache_write_input_tokens, function_name, variant_name)) AS raw_message,
       if(length(_error) > 0, _error, 'no id: the row would be stored with the nil UUID') AS error
FROM forwarder_model_inference_queue
WHERE length(_error) > 0 OR id = toUUID('00000000-0000-0000-0000-000000000000');

-- chat_inference --------------------------------------------------------------------------------------
CREATE TABLE IF NOT EXISTS forwarder_chat_inference_queue
(
    id UUID,
    function_name LowCardinality(String),
    variant_name LowCardinality(String),
    episode_id UUID,
    input String,
    output String,
    tool_params String,
    inference_params String,
    processing_time_ms Nullable(UInt32),
    tags Map(String, String),
    extra_body Nullable(String),
    ttft_ms Nullable(UInt32),
    dynamic_tools Array(String),
    dynamic_provider_tools Array(String),
    allowed_tools Nullable(String),
    tool_choice Nullable(String),
    parallel_tool_calls Nullable(Bool),
    snapshot_hash Nullable(UInt256)
)
ENGINE = Kafka
SETTINGS kafka_broker_list = 'kafka:9092', kafka_topic_list = 'tensorzero_chat_inference',
         kafka_group_name = 'clickhouse_tensorzero_chat_inference', kafka_format = 'JSONEachRow',
         kafka_handle_error_mode = 'stream',
         input_format_skip_unknown_fields = 0, input_format_null_as_default = 0;

CREATE TABLE IF NOT EXISTS forwarder_chat_inference_new AS forwarder_chat_inference_queue ENGINE = Null;

CREATE MATERIALIZED VIEW IF NOT EXISTS forwarder_chat_inference_load_mv TO ChatInference AS
SELECT id, function_name, variant_name, episode_id, input, output, tool_params, inference_params, processing_time_ms, tags, extra_body, ttft_ms, dynamic_tools, dynamic_provider_tools, allowed_tools, tool_choice, parallel_tool_calls, snapshot_hash
FROM forwarder_chat_inference_new
WHERE id NOT IN (
    SELECT id FROM ChatInference
    WHERE (function_name, variant_name, episode_id) IN (SELECT (function_name, variant_name, episode_id) FROM forwarder_chat_inference_new))
LIMIT 1 BY id;

CREATE MATERIALIZED VIEW IF NOT EXISTS forwarder_chat_inference_parse_mv TO forwarder_chat_inference_new AS
SELECT id, function_name, variant_name, episode_id, input, output, tool_params, inference_params, processing_time_ms, tags, extra_body, ttft_ms, dynamic_tools, dynamic_provider_tools, allowed_tools, tool_choice, parallel_tool_calls, snapshot_hash
FROM forwarder_chat_inference_queue
WHERE length(_error) = 0 AND id != toUUID('00000000-0000-0000-0000-000000000000');

CREATE MATERIALIZED VIEW IF NOT EXISTS forwarder_chat_inference_dead_mv TO forwarder_dead_letters AS
SELECT _topic AS topic, _partition AS partition, _offset AS offset,
       _headers.value[indexOf(_headers.name, 'source_id')] AS source_id,
       _headers.value[indexOf(_headers.name, 'spool_index')] AS spool_index,
       if(length(_error) > 0, _raw_message, formatRowNoNewline('JSONEachRow', id, function_name, variant_name, episode_id, input, output, tool_params, inference_params, processing_time_ms, tags, extra_body, ttft_ms, dynamic_tools, dynamic_provider_tools, allowed_tools, tool_choice, parallel_tool_calls, snapshot_hash)) AS raw_message,
       if(length(_error) > 0, _error, 'no id: the row would be stored with the nil UUID') AS error
FROM forwarder_chat_inference_queue
WHERE length(_error) > 0 OR id = toUUID('00000000-0000-0000-0000-000000000000');

-- json_inference --------------------------------------------------------------------------------------
CREATE TABLE IF NOT EXISTS forwarder_json_inference_queue
(
    id UUID,
    function_name LowCardinality(String),
    variant_name LowCardinality(String),
    episode_id UUID,
    input String,
    output String,
    output_schema String,
    inference_params String,
    processing_time_ms Nullable(UInt32),
    tags Map(String, String),
    extra_body Nullable(String),
    auxiliary_content String,
    ttft_ms Nullable(UInt32),
    snapshot_hash Nullable(UInt256)
)
ENGINE = Kafka
SETTINGS kafka_broker_list = 'kafka:9092', kafka_topic_list = 'tensorzero_json_inference',
         kafka_group_name = 'clickhouse_tensorzero_json_inference', kafka_format = 'JSONEachRow',
         kafka_handle_error_mode = 'stream',
         input_format_skip_unknown_fields = 0, input_format_null_as_default = 0;

CREATE TABLE IF NOT EXISTS forwarder_json_inference_new AS forwarder_json_inference_queue ENGINE = Null;

CREATE MATERIALIZED VIEW IF NOT EXISTS forwarder_json_inference_load_mv TO JsonInference AS
SELECT id, function_name, variant_name, episode_id, input, output, output_schema, inference_params, processing_time_ms, tags, extra_body, auxiliary_content, ttft_ms, snapshot_hash
FROM forwarder_json_inference_new
WHERE id NOT IN (
    SELECT id FROM JsonInference
    WHERE (function_name, variant_name, episode_id) IN (SELECT (function_name, variant_name, episode_id) FROM forwarder_json_inference_new))
LIMIT 1 BY id;

CREATE MATERIALIZED VIEW IF NOT EXISTS forwarder_json_inference_parse_mv TO forwarder_json_inference_new AS
SELECT id, function_name, variant_name, episode_id, input, output, output_schema, inference_params, processing_time_ms, tags, extra_body, auxiliary_content, ttft_ms, snapshot_hash
FROM forwarder_json_inference_queue
WHERE length(_error) = 0 AND id != toUUID('00000000-0000-0000-0000-000000000000');

CREATE MATERIALIZED VIEW IF NOT EXISTS forwarder_json_inference_dead_mv TO forwarder_dead_letters AS
SELECT _topic AS topic, _partition AS partition, _offset AS offset,
       _headers.value[indexOf(_headers.name, 'source_id')] AS source_id,
       _headers.value[indexOf(_headers.name, 'spool_index')] AS spool_index,
       if(length(_error) > 0, _raw_message, formatRowNoNewline('JSONEachRow', id, function_name, variant_name, episode_id, input, output, output_schema, inference_params, processing_time_ms, tags, extra_body, auxiliary_content, ttft_ms, snapshot_hash)) AS raw_message,
       if(length(_error) > 0, _error, 'no id: the row would be stored with the nil UUID') AS error
FROM forwarder_json_inference_queue
WHERE length(_error) > 0 OR id = toUUID('00000000-0000-0000-0000-000000000000');
