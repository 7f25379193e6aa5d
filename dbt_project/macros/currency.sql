{#-
    The currency every amount of the marts is reported in: the var reporting_currency
    (dbt_project.yml: env CX_REPORTING_CURRENCY, default EUR), as a quoted upper-case ISO
    4217 code. Amounts are converted by int_order_amounts (see docs/marts.md, "Money").
-#}
{% macro reporting_currency() -%}
    {%- set code = (var('reporting_currency') | string | trim | upper) -%}
    {%- if code | length != 3 or not code.isalpha() -%}
        {{ exceptions.raise_compiler_error("var reporting_currency (env CX_REPORTING_CURRENCY) must be an ISO 4217 code such as EUR, got '" ~ code ~ "'") }}
    {%- endif -%}
    '{{ code }}'
{%- endmacro %}
