{#-
    Lists the source values a mapping seed does not know yet (the canonical column says
    `unmapped`), with how many rows carry each. Severity warn with stored failures: a new
    source value is visible in dbt's output, the gate's warnings and the audit table, and
    never blocks; add it to the seed named in the test's description to map it.
-#}
{% test no_unmapped_values(model, column_name, source_column) %}
{{ config(severity='warn', store_failures=true) }}
select
    {{ source_column }} as source_value,
    count(*) as unmapped_rows
from {{ model }}
where {{ column_name }} = 'unmapped'
group by all
order by unmapped_rows desc, source_value
{% endtest %}
