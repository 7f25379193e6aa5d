{#-
    Staging models are incremental tables (decision 0031): a build reads only the landing dates
    newer than the newest one the table holds, and replaces the stored version of each key those
    dates bring (delete+insert on the key). Since a new landing date is newer than every stored
    one, the version kept is the one dedupe_latest keeps over the whole lake. A landing date
    loaded again, loaded late or removed makes prepare_build drop the incremental models, so
    that build reads the whole lake again (cxpipe.warehouse.build.rebuild_after_reloads).

    lake_increment(): the filter of the model's source rows. The newest stored date is read
    before the statement runs and written into it as a literal, so DuckDB skips the older
    partitions' files instead of reading them all and filtering. When a mapping seed the model
    applies now maps a stored source value differently (an analyst edited the seed), the
    filter is `true`: every row is read again and replaced, as a view would show it.
    `mappings`: one dict per mapped column, {'seed', 'seed_key', 'source', 'column', 'canonical'}
    (the seed, its source-value column, the model's source-value column, the model's mapped
    column and the seed's canonical column).
-#}
{% macro lake_increment(mappings=[]) -%}
    {%- if not (is_incremental() and execute) or mappings_changed(mappings) -%}
        {{ return('true') }}
    {%- endif -%}
    {%- set newest = run_query('select max(load_date) from ' ~ this).columns[0].values()[0] -%}
    {{ return('true' if newest is none else "load_date > date '" ~ newest ~ "'") }}
{%- endmacro %}

{#- True when a stored mapped value differs from what the seed maps its source value to now. -#}
{% macro mappings_changed(mappings) -%}
    {%- for m in mappings -%}
        {%- set query -%}
            select count(*)
            from (select distinct {{ m.source }} as source_value, {{ m.column }} as stored from {{ this }}) as stored
            left join ({{ mapping(m.seed, m.seed_key) }}) as seed
                on {{ mapping_key('stored.source_value') }} = seed.mapping_key
            where {{ mapped_value('stored.source_value', 'seed.' ~ m.canonical) }} is distinct from stored.stored
        {%- endset -%}
        {%- if run_query(query).columns[0].values()[0] > 0 -%}
            {{ log(this ~ ': seed ' ~ m.seed ~ ' maps ' ~ m.source ~ ' differently now; the whole lake is read again', info=true) }}
            {{ return(true) }}
        {%- endif -%}
    {%- endfor -%}
    {{ return(false) }}
{%- endmacro %}
