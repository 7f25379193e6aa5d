{#-
    Row-count (or sum) reconciliation between layers: fails when `expression` over this
    model (optionally filtered by `model_filter`) differs from `compare_expression` over the
    model `to` (filtered by `compare_filter`) by more than `tolerance`.
    Example: every staged order appears once in the enriched orders.
-#}
{% test reconciles_with(
    model, to, expression='count(*)', compare_expression='count(*)',
    model_filter=none, compare_filter=none, tolerance=0
) %}
with this_side as (
    select {{ expression }} as value
    from {{ model }}
    {%- if model_filter %} where {{ model_filter }}{% endif %}
),

other_side as (
    select {{ compare_expression }} as value
    from {{ to }}
    {%- if compare_filter %} where {{ compare_filter }}{% endif %}
)

select
    this_side.value as model_value,
    other_side.value as compared_value
from this_side
cross join other_side
where abs(coalesce(this_side.value, 0) - coalesce(other_side.value, 0)) > {{ tolerance }}
{% endtest %}
