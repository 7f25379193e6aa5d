{#-
    Fails on each group whose shares (a column in percent) do not add up to 100 within
    `tolerance` points. Groups whose shares are all null (nothing to share) pass.
-#}
{% test shares_sum_to_100(model, column_name, group_by, tolerance=0.01) %}
select
    {{ group_by | join(', ') }},
    sum({{ column_name }}) as total_share
from {{ model }}
group by {{ group_by | join(', ') }}
having
    sum({{ column_name }}) is not null
    and abs(sum({{ column_name }}) - 100) > {{ tolerance }}
{% endtest %}
