-- TensorZero's three inference tables as its gateway leaves them after every migration it runs, at
-- tensorzero/tensorzero 7a6159a (2026-04-24): columns, types, defaults and sort keys from
-- crates/tensorzero-core/src/db/clickhouse/migration_manager/migrations/ (0000 created them; 0002-0053 changed
-- them; the final state is ../shared/tensorzero/schema.md). Written from TensorZero, not from our model: the
-- tests compare our model with what ClickHouse says these tables are.

CREATE TABLE IF NOT EXISTS ModelInference
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
    timestamp DateTime MATERIALIZED UUIDv7ToDateTime(id),
    system Nullable(String),
    input_messages String,
    output String,
    cached Bool DEFAULT false,
    finish_reason Nullable(Enum8('stop' = 1, 'length' = 2, 'tool_call' = 3, 'content_filter' = 4, 'unknown' = 5, 'stop_sequence' = 6)),
    snapshot_hash Nullable(UInt256),
    cost Nullable(Decimal(18, 9)),
    provider_cache_read_input_tokens Nullable(UInt32),
    provider_cache_write_input_tokens Nullable(UInt32),
    function_name LowCardinality(String) DEFAULT '',
    variant_name LowCardinality(String) DEFAULT ''
)
ENGINE = MergeTree
ORDER BY inference_id;

CREATE TABLE IF NOT EXISTS ChatInference
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
    timestamp DateTime MATERIALIZED UUIDv7ToDateTime(id),
    tags Map(String, String) DEFAULT map(),
    extra_body Nullable(String),
    ttft_ms Nullable(UInt32),
    dynamic_tools Array(String),
    dynamic_provider_tools Array(String),
    allowed_tools Nullable(String),
    tool_choice Nullable(String),
    parallel_tool_calls Nullable(Bool),
    snapshot_hash Nullable(UInt256)
)
ENGINE = MergeTree
ORDER BY (function_name, variant_name, episode_id);

CREATE TABLE IF NOT EXISTS JsonInference
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
    timestamp DateTime MATERIALIZED UUIDv7ToDateTime(id),
    tags Map(String, String) DEFAULT map(),
    extra_body Nullable(String),
    auxiliary_content String,
    ttft_ms Nullable(UInt32),
    snapshot_hash Nullable(UInt256)
)
ENGINE = MergeTree
ORDER BY (function_name, variant_name, episode_id);
