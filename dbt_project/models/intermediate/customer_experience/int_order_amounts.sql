-- Currency conversion of every order: the rate to the reporting currency (var
-- reporting_currency) on the order's UTC date, as of the latest exchange_rates row on or
-- before that date; 1 for an order already in the reporting currency. A missing rate is
-- left null here and fails the test every_amount_has_an_exchange_rate (severity error),
-- which blocks the gate and names the currency and date.
{%- set reporting = reporting_currency() %}

with orders as (
    select
        order_id,
        currency,
        {{ utc_date('ordered_at') }} as order_date,
        order_total
    from {{ ref('stg_sales__orders') }}
),

rates as (
    select
        upper(trim(currency)) as currency,
        rate_date,
        rate_to_reporting,
        lead(rate_date) over (partition by upper(trim(currency)) order by rate_date) as next_rate_date
    from {{ ref('exchange_rates') }}
    where upper(trim(reporting_currency)) = {{ reporting }}
),

final as (
    select
        orders.order_id,
        orders.currency,
        orders.order_date,
        {{ reporting }} as reporting_currency,
        case when orders.currency = {{ reporting }} then orders.order_date else rates.rate_date end as rate_date,
        case when orders.currency = {{ reporting }} then 1.0 else rates.rate_to_reporting end as rate_to_reporting,
        orders.order_total as order_total_local,
        orders.order_total
        * case when orders.currency = {{ reporting }} then 1.0 else rates.rate_to_reporting end as order_total
    from orders
    left join rates
        on
            orders.currency = rates.currency
            and orders.order_date >= rates.rate_date
            and (orders.order_date < rates.next_rate_date or rates.next_rate_date is null)
)

select * from final
