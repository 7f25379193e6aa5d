{#-
    Materialization of the incremental models: incremental (rows replaced by key) on DuckDB; a
    table rebuilt from the whole lake on Spark, where the build's Parquet tables cannot delete
    rows by key (no Delta/Iceberg on a plain Spark catalog). Same rows either way; docs/spark.md.
-#}
{% macro incremental_materialization() -%}
    {{ return(adapter.dispatch('incremental_materialization', 'cxpipe')()) }}
{%- endmacro %}

{% macro default__incremental_materialization() -%}
    {{ return('incremental') }}
{%- endmacro %}

{% macro spark__incremental_materialization() -%}
    {{ return('table') }}
{%- endmacro %}

{#-
    Filter of an incremental model: on an incremental run keep the source rows whose
    landing date is at most cx_incremental_lookback_days before the newest landing date
    already in the model (late and corrected rows are re-read and replace their key);
    on a full refresh keep everything. `where` names the rows of the model that the
    newest date is taken from (one promise type, for instance).
-#}
{% macro incremental_window(column='load_date', this_column='load_date', where=none) -%}
    {%- if is_incremental() -%}
        {{ column }} >= (
            select coalesce(max({{ this_column }}), date '1900-01-01')
            from {{ this }}
            {%- if where %} where {{ where }}{% endif %}
        ) - interval {{ var('cx_incremental_lookback_days') }} day
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}

{#-
    Post-hook of int_promises: a promise withdrawn after it was recorded (the order was
    cancelled, the line became a credit line) is deleted, so an incremental run keeps what a
    full refresh builds. delete+insert alone would keep the old row, since a withdrawn
    promise has no new row to replace it.
-#}
{% macro drop_withdrawn_promises() -%}
    {%- if is_incremental() -%}
    delete from {{ this }}
    where
        (
            promise_type = 'delivery_date'
            and order_id in (select order_id from {{ ref('int_orders_enriched') }} where is_cancelled)
        )
        or (
            promise_type in ('stock_availability', 'price_charged')
            and source_id in (select line_id from {{ ref('stg_sales__order_lines') }} where quantity <= 0)
        )
    {%- endif -%}
{%- endmacro %}

{#-
    Extra filter of int_orders_enriched on an incremental run: the orders whose stored
    exchange rate or reporting currency differs from the current conversion (an analyst
    corrected a rate, or CX_REPORTING_CURRENCY changed), whatever their landing date; every
    order when the stored table predates the conversion columns; none on a full refresh.
-#}
{% macro reconverted_orders(stored_columns) -%}
    {%- if not is_incremental() -%}
        false
    {%- elif 'exchange_rate' in stored_columns -%}
        order_id in (
            select enriched.order_id
            from {{ this }} as enriched
            inner join {{ ref('int_order_amounts') }} as amounts on enriched.order_id = amounts.order_id
            where
                enriched.exchange_rate is distinct from amounts.rate_to_reporting
                or enriched.reporting_currency is distinct from amounts.reporting_currency
        )
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}

{#-
    Incremental strategy `replace_changed` (dbt calls get_incremental_<strategy>_sql): like
    delete+insert on unique_key, but only for the rows the run computed differently from the
    stored ones. A recomputed row equal in every column to the stored row of its key would be
    deleted and inserted unchanged; here it is left in place, so a run whose lookback window
    re-reads many rows writes only the new and changed ones. The result is the one
    delete+insert gives as long as unique_key is unique in the model (its unique test).
    `except` compares NULLs as equal, as a re-computation that yields NULL again is no change.
-#}
{% macro get_incremental_replace_changed_sql(arg_dict) -%}
    {%- set target = arg_dict['target_relation'] -%}
    {%- set source = arg_dict['temp_relation'] -%}
    {%- set key = arg_dict['unique_key'] -%}
    {%- if not key or (key is sequence and key is not string) -%}
        {{ exceptions.raise_compiler_error("replace_changed needs one unique_key column, got: " ~ key) }}
    {%- endif -%}
    {%- set columns = get_quoted_csv(arg_dict['dest_columns'] | map(attribute='name')) -%}
    {%- set changed = make_temp_relation(target, '__changed') -%}
    create or replace temporary table {{ changed.identifier }} as (
        select {{ columns }} from {{ source }}
        except
        select {{ columns }} from {{ target }}
    );
    delete from {{ target }}
    where {{ key }} in (select {{ key }} from {{ changed.identifier }});
    insert into {{ target }} ({{ columns }})
    select {{ columns }} from {{ changed.identifier }};
    drop table {{ changed.identifier }}
{%- endmacro %}
