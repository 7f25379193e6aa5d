{#-
    The money gate: fails with one row per currency and date whose amounts have no exchange
    rate to the reporting currency (no exchange_rates row on or before that date), with the
    number of orders affected. Severity error and stored failures: the build stops before the
    marts, the quality gate blocks publication and its record names currency and date.
-#}
{% test every_amount_has_an_exchange_rate(model, column_name, currency_column='currency', date_column='order_date') %}
{{ config(severity='error', store_failures=true) }}
select
    coalesce({{ currency_column }}, '(none)') as currency,
    {{ date_column }} as amount_date,
    count(*) as amounts_without_rate
from {{ model }}
where {{ column_name }} is null
group by all
order by currency, amount_date
{% endtest %}
