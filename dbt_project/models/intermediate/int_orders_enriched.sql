-- Orders with their customer's region and whether the delivery promise was kept.
with orders as (
    select * from {{ ref('stg_sales__orders') }}
),

regions as (
    select * from {{ ref('country_regions') }}
),

final as (
    select
        orders.order_id,
        orders.customer_key,
        orders.channel,
        orders.store_id,
        orders.country,
        orders.order_total,
        orders.ordered_at,
        orders.promised_date,
        orders.delivered_at,
        orders.status,
        date_trunc('month', orders.ordered_at)::date as order_month,
        coalesce(regions.region, 'Other') as region,
        case when orders.promised_date is not null then 'delivery' else 'store_visit' end as touchpoint,
        case
            when orders.promised_date is null or orders.delivered_at is null then null
            else orders.delivered_at::date <= orders.promised_date
        end as is_on_time
    from orders
    left join regions on orders.country = regions.country
)

select * from final
