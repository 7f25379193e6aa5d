-- Each customer with order behaviour, RFM scores, the named RFM segment, value tier,
-- channel preference, return propensity, category affinity and lifecycle stage. The customers
-- are the CRM's plus those known only from their orders (no CRM in the deployment, or not yet
-- in its customers file): their CRM attributes are unknown, their country is their orders'
-- (docs/decisions/0045-customers-known-only-from-their-orders.md).
-- "Today" is the newest order in the data (as_of_at), so a rebuild gives the same answer.
-- Orders count when they are purchases (not cancelled, not credit notes); revenue is net
-- (credit notes subtract, cancelled orders count 0) in the reporting currency.
with crm_customers as (
    select * from {{ ref('stg_crm__customers') }}
),

customer_orders as (
    select * from {{ ref('int_orders_enriched') }}
    where customer_key is not null
),

order_only_customers as (
    -- customers of orders that the CRM does not know; the country of their most recent order
    -- that names one (of two at the same time, the later order_id's)
    select
        customer_orders.customer_key,
        {{ arg_max('customer_orders.country', 'customer_orders.ordered_at', 'customer_orders.order_id') }}
        filter (where customer_orders.country is not null) as country
    from customer_orders
    left join crm_customers on customer_orders.customer_key = crm_customers.customer_key
    where crm_customers.customer_key is null
    group by customer_orders.customer_key
),

customers as (
    select
        customer_key,
        membership_tier,
        points,
        country,
        city,
        signup_date,
        birth_year
    from crm_customers
    union all
    select
        customer_key,
        null as membership_tier,
        null as points,
        country,
        null as city,
        null as signup_date,
        null as birth_year
    from order_only_customers
),

orders as (
    select * from customer_orders
    where is_purchase
),

regions as (
    select * from {{ ref('country_regions') }}
),

as_of as (
    select max(ordered_at) as as_of_at from {{ ref('int_orders_enriched') }}
),

order_stats as (
    -- every customer with an order row; revenue nets their credit notes
    select
        customer_key,
        count(*) filter (where is_purchase) as orders,
        count(*) filter (where is_cancelled) as cancelled_orders,
        count(*) filter (where is_credit_note and not is_cancelled) as credit_notes,
        -- summed as decimals (to the micro-unit): exact, so the total and its rounding do not depend
        -- on the order the engine adds the rows in
        coalesce(cast(sum(cast(revenue as decimal(38, 6))) as double), 0) as revenue,
        min(ordered_at) filter (where is_purchase) as first_order_at,
        max(ordered_at) filter (where is_purchase) as last_order_at,
        count(*) filter (where is_purchase and channel = 'store') as store_orders,
        count(*) filter (where is_purchase and channel <> 'store') as online_orders
    from customer_orders
    group by customer_key
),

returned_orders as (
    select
        orders.customer_key,
        count(distinct product_returns.order_id) as returned_orders
    from {{ ref('stg_sales__returns') }} as product_returns
    inner join orders on product_returns.order_id = orders.order_id
    group by orders.customer_key
),

category_spend as (
    -- net spend per category in the reporting currency (credit lines of a purchase subtract)
    select
        orders.customer_key,
        order_lines.category,
        sum(order_lines.line_amount * orders.exchange_rate) as spend
    from {{ ref('stg_sales__order_lines') }} as order_lines
    inner join orders on order_lines.order_id = orders.order_id
    group by orders.customer_key, order_lines.category
),

top_category as (
    -- the category with the highest net spend, and its share of the customer's spend over
    -- the categories with a positive net spend (so the share stays within 0-100)
    select
        customer_key,
        category as category_affinity,
        100.0 * spend / nullif(sum(greatest(spend, 0)) over (partition by customer_key), 0)
            as category_affinity_share_pct
    from category_spend
    qualify row_number() over (partition by customer_key order by spend desc, category asc) = 1
),

scored as (
    -- scores rank the customers with at least one purchase; the others are prospects
    select
        *,
        {{ quintile_score(utc_date('last_order_at')) }} as recency_score,
        {{ frequency_score('orders') }} as frequency_score,
        {{ quintile_score('revenue') }} as monetary_score
    from order_stats
    where orders > 0
),

final as (
    select
        customers.customer_key,
        customers.membership_tier,
        customers.points,
        customers.country,
        coalesce(regions.region, 'Other') as region,
        customers.city,
        customers.signup_date,
        case
            when customers.birth_year is null then 'unknown'
            when year(as_of.as_of_at) - customers.birth_year < 25 then 'under 25'
            when year(as_of.as_of_at) - customers.birth_year < 35 then '25-34'
            when year(as_of.as_of_at) - customers.birth_year < 45 then '35-44'
            when year(as_of.as_of_at) - customers.birth_year < 55 then '45-54'
            when year(as_of.as_of_at) - customers.birth_year < 65 then '55-64'
            else '65+'
        end as age_band,
        coalesce(order_stats.orders, 0) as orders,
        coalesce(order_stats.cancelled_orders, 0) as cancelled_orders,
        coalesce(order_stats.credit_notes, 0) as credit_notes,
        coalesce(order_stats.revenue, 0) as revenue,
        {{ reporting_currency() }} as reporting_currency,
        scored.first_order_at,
        scored.last_order_at,
        {{ date_diff('day', 'scored.last_order_at', 'as_of.as_of_at') }} as recency_days,
        scored.recency_score,
        scored.frequency_score,
        scored.monetary_score,
        {{ rfm_segment('scored.recency_score', 'scored.frequency_score') }} as rfm_segment,
        case
            when scored.orders is null then 'prospect'
            when scored.monetary_score = 5 then 'top'
            when scored.monetary_score >= 3 then 'mid'
            else 'low'
        end as value_tier,
        case
            when scored.orders is null then 'no orders'
            when scored.online_orders = 0 then 'store'
            when scored.store_orders = 0 then 'online'
            else 'omnichannel'
        end as channel_preference,
        coalesce(returned_orders.returned_orders, 0) as returned_orders,
        {{ float_literal(100.0) }}
        * coalesce(returned_orders.returned_orders, 0) / nullif(scored.orders, 0) as return_rate_pct,
        top_category.category_affinity,
        -- 100.0 * spend / spend can round to 100.00000000000001 (it failed the 0-100 test at SF 1)
        case
            when top_category.category_affinity_share_pct > 100 then 100.0
            else top_category.category_affinity_share_pct
        end as category_affinity_share_pct,
        case
            when scored.orders is null then 'prospect'
            when
                {{ date_diff('day', 'scored.last_order_at', 'as_of.as_of_at') }}
                >= {{ var('cx_lifecycle_churned_days') }} then 'churned'
            when
                {{ date_diff('day', 'scored.last_order_at', 'as_of.as_of_at') }}
                >= {{ var('cx_lifecycle_at_risk_days') }} then 'at risk'
            when
                {{ date_diff('day', 'scored.first_order_at', 'as_of.as_of_at') }}
                < {{ var('cx_lifecycle_new_days') }} then 'new'
            else 'active'
        end as lifecycle_stage
    from customers
    cross join as_of
    left join order_stats on customers.customer_key = order_stats.customer_key
    left join scored on customers.customer_key = scored.customer_key
    left join returned_orders on customers.customer_key = returned_orders.customer_key
    left join top_category on customers.customer_key = top_category.customer_key
    left join regions on customers.country = regions.country
)

select * from final
