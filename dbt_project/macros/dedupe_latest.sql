{#- Keep the newest version of each key: the latest landing date, then the last row in its file. -#}
{% macro dedupe_latest(key) -%}
    qualify row_number() over (
        partition by {{ key }}
        order by load_date desc, _source_row desc
    ) = 1
{%- endmacro %}
