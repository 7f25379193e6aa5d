-- One row per promise made to a customer and what became of it:
--   delivery_date        order with a promised delivery date, not cancelled; gap = days late (negative = early)
--   stock_availability   order line shown as in stock (units ordered > 0); gap = units not fulfilled
--   price_charged        order line (units ordered > 0); gap = % charged above the shown unit price (negative = below)
-- Credit-note lines (zero or negative quantity) carry no promise.
--   ticket_response_sla  service ticket; gap = hours of first response beyond the SLA
--   return_handling      return; gap = days from request to refund beyond the handling time
-- outcome: exceeded (better than promised), kept (as promised), broken, or open (no outcome yet).
-- Incremental: keyed by promise_id; each promise type re-reads its own lookback window.
{{
    config(
        materialized=incremental_materialization(),
        unique_key='promise_id',
        incremental_strategy='replace_changed',
        on_schema_change='append_new_columns',
        post_hook=[
            "{{ drop_withdrawn_promises() }}",
        ],
    )
}}

{%- set sla_hours = var('cx_ticket_response_sla_hours') -%}
{%- set fast_hours = var('cx_ticket_response_exceeded_hours') -%}
{%- set return_days = var('cx_return_handling_sla_days') -%}
{%- set fast_return_days = var('cx_return_handling_exceeded_days') -%}
{%- set price_tolerance = var('cx_price_tolerance') -%}

with orders as (
    select * from {{ ref('int_orders_enriched') }}
),

customers as (
    select
        customers.customer_key,
        coalesce(regions.region, 'Other') as region
    from {{ ref('stg_crm__customers') }} as customers
    left join {{ ref('country_regions') }} as regions on customers.country = regions.country
),

delivery as (
    select
        'delivery_date:' || order_id as promise_id,
        'delivery_date' as promise_type,
        order_id as source_id,
        order_id,
        customer_key,
        channel,
        region,
        ordered_at as promised_at,
        delivery_gap_days::double as gap,
        'days late' as gap_unit,
        case
            when delivery_gap_days is null then 'open'
            when delivery_gap_days < 0 then 'exceeded'
            when delivery_gap_days = 0 then 'kept'
            else 'broken'
        end as outcome,
        load_date
    from orders
    where
        promised_date is not null
        and not is_cancelled
        and {{ incremental_window(where="promise_type = 'delivery_date'") }}
),

promised_lines as (
    select
        order_lines.*,
        orders.customer_key,
        orders.channel,
        orders.region,
        orders.ordered_at
    from {{ ref('stg_sales__order_lines') }} as order_lines
    inner join orders on order_lines.order_id = orders.order_id
    where order_lines.quantity > 0
),

stock as (
    select
        'stock_availability:' || line_id as promise_id,
        'stock_availability' as promise_type,
        line_id as source_id,
        order_id,
        customer_key,
        channel,
        region,
        ordered_at as promised_at,
        (quantity - qty_fulfilled)::double as gap,
        'units short' as gap_unit,
        case
            when qty_fulfilled is null then 'open'
            when qty_fulfilled >= quantity then 'kept'
            else 'broken'
        end as outcome,
        load_date
    from promised_lines
    where
        stock_promised
        and {{ incremental_window(where="promise_type = 'stock_availability'") }}
),

price as (
    select
        'price_charged:' || line_id as promise_id,
        'price_charged' as promise_type,
        line_id as source_id,
        order_id,
        customer_key,
        channel,
        region,
        ordered_at as promised_at,
        100.0 * (unit_price - shown_price) / nullif(shown_price, 0) as gap,
        '% above shown price' as gap_unit,
        case
            when unit_price is null or shown_price is null then 'open'
            when unit_price > shown_price + {{ price_tolerance }} then 'broken'
            when unit_price < shown_price - {{ price_tolerance }} then 'exceeded'
            else 'kept'
        end as outcome,
        load_date
    from promised_lines
    where {{ incremental_window(where="promise_type = 'price_charged'") }}
),

tickets as (
    select
        'ticket_response_sla:' || tickets.ticket_id as promise_id,
        'ticket_response_sla' as promise_type,
        tickets.ticket_id as source_id,
        tickets.order_id,
        tickets.customer_key,
        tickets.contact_channel as channel,
        coalesce(orders.region, customers.region, 'Other') as region,
        tickets.created_at as promised_at,
        {{ date_diff('second', 'tickets.created_at', 'tickets.first_response_at') }}
        / {{ float_literal(3600.0) }} - {{ sla_hours }} as gap,
        'hours beyond SLA' as gap_unit,
        case
            when tickets.first_response_at is null then 'open'
            when {{ date_diff('second', 'tickets.created_at', 'tickets.first_response_at') }} <= {{ fast_hours }} * 3600
                then 'exceeded'
            when {{ date_diff('second', 'tickets.created_at', 'tickets.first_response_at') }} <= {{ sla_hours }} * 3600
                then 'kept'
            else 'broken'
        end as outcome,
        tickets.load_date
    from {{ ref('stg_crm__tickets') }} as tickets
    left join orders on tickets.order_id = orders.order_id
    left join customers on tickets.customer_key = customers.customer_key
    where {{ incremental_window('tickets.load_date', where="promise_type = 'ticket_response_sla'") }}
),

product_returns as (
    select
        *,
        {{ date_diff('second', 'requested_at', 'refunded_at') }} / {{ float_literal(86400.0) }} as handling_days
    from {{ ref('stg_sales__returns') }}
),

return_promises as (
    select
        'return_handling:' || product_returns.return_id as promise_id,
        'return_handling' as promise_type,
        product_returns.return_id as source_id,
        product_returns.order_id,
        product_returns.customer_key,
        product_returns.return_channel as channel,
        coalesce(orders.region, customers.region, 'Other') as region,
        product_returns.requested_at as promised_at,
        product_returns.handling_days - {{ return_days }} as gap,
        'days beyond handling time' as gap_unit,
        case
            when product_returns.refunded_at is null then 'open'
            when product_returns.handling_days <= {{ fast_return_days }} then 'exceeded'
            when product_returns.handling_days <= {{ return_days }} then 'kept'
            else 'broken'
        end as outcome,
        product_returns.load_date
    from product_returns
    left join orders on product_returns.order_id = orders.order_id
    left join customers on product_returns.customer_key = customers.customer_key
    where {{ incremental_window('product_returns.load_date', where="promise_type = 'return_handling'") }}
),

unioned as (
    select * from delivery
    union all
    select * from stock
    union all
    select * from price
    union all
    select * from tickets
    union all
    select * from return_promises
),

final as (
    select
        promise_id,
        promise_type,
        source_id,
        order_id,
        customer_key,
        coalesce(channel, 'unknown') as channel,
        region,
        promised_at,
        date_trunc('month', {{ utc_date('promised_at') }})::date as promise_month,
        outcome,
        case when outcome <> 'open' then outcome in ('kept', 'exceeded') end as is_kept,
        outcome = 'exceeded' as is_exceeded,
        outcome = 'broken' as is_broken,
        case when outcome <> 'open' then round(gap, 4) end as gap,
        gap_unit,
        load_date
    from unioned
)

select * from final
