{#-
    The snapshot on Spark without a table format that can merge (Delta, Iceberg, Hudi): the
    first build creates the history as dbt does; a later build computes it again in a new
    table (the rows it holds, a current version closed when its customer changed or left,
    then the new versions) and puts it in place of the old one. Same result as dbt's merge,
    as a rewrite of a table that is small next to the facts (one row per customer version).
    With Delta on the cluster, set file_format='delta' and dbt-spark's own merge runs instead.
-#}
{% materialization snapshot, adapter='spark' %}
    {%- set file_format = config.get('file_format') or 'parquet' -%}
    {%- if file_format in ['delta', 'iceberg', 'hudi'] -%}
        {{ exceptions.raise_compiler_error("snapshot: with file_format " ~ file_format ~ " use dbt-spark's snapshot (remove macros/spark/snapshot.sql)") }}
    {%- endif -%}
    {%- set unique_key = config.get('unique_key') -%}
    {%- set strategy_name = config.get('strategy') -%}
    {%- set target_table = model.get('alias', model.get('name')) -%}
    {% set exists, target_relation = get_or_create_relation(
        database=none, schema=model.schema, identifier=target_table, type='table') -%}
    {% if not adapter.check_schema_exists(model.database, model.schema) %}
        {% do create_schema(model.schema) %}
    {% endif %}
    {{ run_hooks(pre_hooks) }}
    {% set strategy_macro = strategy_dispatch(strategy_name) %}
    {% set strategy = strategy_macro(model, "snapshotted_data", "source_data", model['config'], exists) %}
    {% set columns = config.get("snapshot_table_column_names") or get_snapshot_table_column_names() %}

    {% if not exists %}
        {% call statement('main') %}
            {{ create_table_as(False, target_relation, build_snapshot_table(strategy, model['compiled_code'])) }}
        {% endcall %}
    {% else %}
        {% set staging = spark_build_snapshot_staging_table(strategy, sql, target_relation) %}
        {% set held = adapter.get_columns_in_relation(target_relation) | map(attribute='name') | list %}
        {% set rebuilt = api.Relation.create(identifier=target_table ~ '__dbt_rebuilt', schema=model.schema, type='table') %}
        {% do adapter.drop_relation(rebuilt) %}
        {% set history %}
            select
            {%- for name in held %}
                {% if name == columns.dbt_valid_to -%}
                    case
                        when held.{{ name }} is null and changed.{{ columns.dbt_scd_id }} is not null
                            then changed.{{ columns.dbt_valid_to }}
                        else held.{{ name }}
                    end as {{ name }}
                {%- else -%}
                    held.{{ name }}
                {%- endif %}{{ "," if not loop.last }}
            {%- endfor %}
            from {{ target_relation }} as held
            left join (
                select * from {{ staging }} where dbt_change_type in ('update', 'delete')
            ) as changed on held.{{ columns.dbt_scd_id }} = changed.{{ columns.dbt_scd_id }}
            union all
            select {{ held | join(', ') }}
            from {{ staging }}
            where dbt_change_type = 'insert'
        {% endset %}
        {% call statement('main') %}
            {{ create_table_as(False, rebuilt, history) }}
        {% endcall %}
        {% do adapter.drop_relation(target_relation) %}
        {% call statement('rename_rebuilt') %}
            alter table {{ rebuilt }} rename to {{ target_relation }}
        {% endcall %}
        {% do post_snapshot(staging) %}
    {% endif %}
    {% do persist_docs(target_relation, model) %}
    {{ run_hooks(post_hooks) }}
    {{ adapter.commit() }}
    {{ return({'relations': [target_relation]}) }}
{% endmaterialization %}
