-- Orders with region, store city, the customer's membership tier when they ordered, the
-- delivery promise outcome and the money in the reporting currency: order_total converted
-- by int_order_amounts, revenue net (credit notes negative, cancelled orders 0).
-- Incremental: keyed by order_id, re-reads the last cx_incremental_lookback_days landing
-- days so late and corrected orders replace theirs, and every order whose exchange rate or
-- reporting currency is no longer the one it was converted with.
{{
    config(
        materialized=incremental_materialization(),
        unique_key='order_id',
        incremental_strategy='replace_changed',
        on_schema_change='append_new_columns',
    )
}}

{%- set converted_columns = [] -%}
{%- if is_incremental() -%}
    {%- set converted_columns = adapter.get_columns_in_relation(this) | map(attribute='name') | list -%}
{%- endif %}

with amounts as (
    select * from {{ ref('int_order_amounts') }}
),

orders as (
    select * from {{ ref('stg_sales__orders') }}
    where
        {{ incremental_window() }}
        or {{ reconverted_orders(converted_columns) }}
),

regions as (
    select * from {{ ref('country_regions') }}
),

stores as (
    select * from {{ ref('stg_sales__stores') }}
),

customer_versions as (
    select
        customer_key,
        membership_tier,
        dbt_valid_from,
        dbt_valid_to,
        row_number() over (partition by customer_key order by dbt_valid_from) as version_number
    from {{ ref('crm_customers_snapshot') }}
),

tier_at_order as (
    -- the version valid when the order was placed; for an order older than the first
    -- recorded version, that first version (the CRM kept no earlier history)
    select
        orders.order_id,
        customer_versions.membership_tier
    from orders
    inner join customer_versions
        on
            orders.customer_key = customer_versions.customer_key
            and (
                (
                    orders.ordered_at >= customer_versions.dbt_valid_from
                    and (orders.ordered_at < customer_versions.dbt_valid_to or customer_versions.dbt_valid_to is null)
                )
                or (orders.ordered_at < customer_versions.dbt_valid_from and customer_versions.version_number = 1)
            )
),

final as (
    select
        orders.order_id,
        orders.customer_key,
        orders.channel,
        orders.store_id,
        stores.city as store_city,
        orders.country,
        coalesce(regions.region, 'Other') as region,
        orders.currency,
        amounts.order_total_local,
        amounts.rate_to_reporting as exchange_rate,
        amounts.rate_date as exchange_rate_date,
        amounts.reporting_currency,
        amounts.order_total,
        case when orders.status = 'cancelled' then 0 else amounts.order_total end as revenue,
        orders.status = 'cancelled' as is_cancelled,
        coalesce(amounts.order_total_local < 0, false) as is_credit_note,
        orders.status <> 'cancelled' and coalesce(amounts.order_total_local >= 0, true) as is_purchase,
        orders.ordered_at,
        {{ utc_date('orders.ordered_at') }} as order_date,
        date_trunc('month', {{ utc_date('orders.ordered_at') }})::date as order_month,
        orders.promised_date,
        orders.delivered_at,
        orders.source_status,
        orders.status,
        case when orders.promised_date is not null then 'delivery' else 'store_visit' end as touchpoint,
        case
            when orders.status <> 'cancelled' then {{ is_on_time('orders.delivered_at', 'orders.promised_date') }}
        end as is_on_time,
        {{ date_diff('day', 'orders.promised_date', utc_date('orders.delivered_at')) }} as delivery_gap_days,
        case
            when orders.customer_key is null then 'guest'
            else coalesce(tier_at_order.membership_tier, 'unknown')
        end as membership_tier_at_order,
        orders.load_date
    from orders
    left join regions on orders.country = regions.country
    left join stores on orders.store_id = stores.store_id
    left join tier_at_order on orders.order_id = tier_at_order.order_id
    left join amounts on orders.order_id = amounts.order_id
)

select * from final
