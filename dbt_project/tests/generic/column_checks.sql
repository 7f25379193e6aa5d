{#-
    A model's column checks in one query and one scan (decision 0032): not_null, unique,
    accepted_values and accepted_range, each over one column, as dbt's tests of those names
    check them (nulls pass accepted_values and accepted_range; unique counts the rows that
    repeat a value an earlier row holds). Returns one row per failing check: column_name,
    rule and failing_rows; the test's failures are the failing rows summed. The rows are
    stored (store_failures) so the gate reports each failing check with its column, rule and
    count (cxpipe.gate.dbt_results).

    Arguments, each optional:
      not_null: [column, ...]
      unique: [column, ...]
      accepted_values: {column: [value, ...], ...}   (values compared as quoted strings)
      accepted_range: {column: {min_value: x, max_value: y}, ...}   (either bound may be left out)
-#}
{% test column_checks(model, not_null=[], unique=[], accepted_values={}, accepted_range={}) %}
{{ config(store_failures=true, fail_calc='coalesce(sum(failing_rows), 0)') }}
{%- set checks = [] -%}
{%- for column in not_null -%}
    {%- do checks.append((column, 'not_null', 'count(case when ' ~ column ~ ' is null then 1 end)')) -%}
{%- endfor -%}
{%- for column in unique -%}
    {%- do checks.append((column, 'unique', 'count(' ~ column ~ ') - count(distinct ' ~ column ~ ')')) -%}
{%- endfor -%}
{%- for column, values in accepted_values.items() -%}
    {%- set quoted = [] -%}
    {%- for value in values -%}{%- do quoted.append("'" ~ (value | string | replace("'", "''")) ~ "'") -%}{%- endfor -%}
    {%- do checks.append((column, 'accepted_values', 'count(case when ' ~ column ~ ' not in (' ~ (quoted | join(', ')) ~ ') then 1 end)')) -%}
{%- endfor -%}
{%- for column, bounds in accepted_range.items() -%}
    {%- set outside = [] -%}
    {%- if bounds.get('min_value') is not none -%}{%- do outside.append(column ~ ' < ' ~ bounds['min_value']) -%}{%- endif -%}
    {%- if bounds.get('max_value') is not none -%}{%- do outside.append(column ~ ' > ' ~ bounds['max_value']) -%}{%- endif -%}
    {%- if not outside -%}
        {{ exceptions.raise_compiler_error('column_checks on ' ~ model ~ ': accepted_range of ' ~ column ~ ' has neither min_value nor max_value') }}
    {%- endif -%}
    {%- do checks.append((column, 'accepted_range', 'count(case when ' ~ (outside | join(' or ')) ~ ' then 1 end)')) -%}
{%- endfor -%}
{%- if not checks -%}
    {{ exceptions.raise_compiler_error('column_checks on ' ~ model ~ ': no check given') }}
{%- endif %}
with counted as (
    select
    {%- for column, rule, failing in checks %}
        {{ failing }} as check_{{ loop.index }}{{ ',' if not loop.last }}
    {%- endfor %}
    from {{ model }}
)
{%- for column, rule, failing in checks %}
select '{{ column }}' as column_name, '{{ rule }}' as rule, check_{{ loop.index }} as failing_rows
from counted
where check_{{ loop.index }} > 0
{%- if not loop.last %}
union all
{%- endif %}
{%- endfor %}
{% endtest %}
