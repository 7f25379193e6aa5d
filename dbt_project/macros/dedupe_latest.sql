{#-
    Keep the newest version of each key: the latest landing date, then the last row in its
    file. `prefix` qualifies load_date and _source_row when the source is joined to others
    (e.g. 'source.').
-#}
{% macro dedupe_latest(key, prefix='') -%}
    qualify row_number() over (
        partition by {{ key }}
        order by {{ prefix }}load_date desc, {{ prefix }}_source_row desc
    ) = 1
{%- endmacro %}
