{#-
    A mapping seed's source values must stay unique after normalisation (case, blanks at
    either end, and spaces/underscores/hyphens ignored, macro mapping_key): two rows that
    collide would map one source value twice and duplicate the rows that carry it.
-#}
{% test unique_mapping_key(model, column_name) %}
select
    {{ mapping_key(column_name) }} as mapping_key,
    count(*) as rows_with_key,
    string_agg({{ column_name }}, ' | ') as source_values
from {{ model }}
group by all
having count(*) > 1
{% endtest %}
