{#-
    Customer-experience metrics, defined once. Each formula is documented in a doc
    block of models/docs.md and in docs/marts.md; the unit tests beside the marts
    check each one against hand-computed rows.
-#}

{#- CSAT: share of 1-5 answers that are 4 or 5, in percent. -#}
{% macro csat_pct(score) -%}
    {{ float_literal(100.0) }} * count(*) filter (where {{ score }} >= 4) / nullif(count({{ score }}), 0)
{%- endmacro %}

{#- NPS: % promoters (9-10) minus % detractors (0-6), from -100 to 100. -#}
{% macro nps(score) -%}
    {{ float_literal(100.0) }} * (
        count(*) filter (where {{ score }} >= 9)
        - count(*) filter (where {{ score }} <= 6)
    ) / nullif(count({{ score }}), 0)
{%- endmacro %}

{#-
    Mean of a DOUBLE that does not depend on the order of the rows: each value is rounded to
    9 decimals and summed exactly as a decimal. A sum of doubles depends on the order it adds
    them in, and a mean rounded for a report can then land on either side of a rounding tie
    (0.662 or 0.663) depending on how the rows were read (an incremental build reads them in
    another order than a full one).
-#}
{% macro exact_mean(value) -%}
    cast(avg(cast({{ value }} as decimal(38, 9))) as double)
{%- endmacro %}

{#- CES: mean of the 1-7 effort answer (7 = very easy). -#}
{% macro ces(score) -%}
    avg({{ score }})
{%- endmacro %}

{#- Share of true values among the non-null values of a boolean, in percent (on-time rate, kept rate). -#}
{% macro pct_true(flag) -%}
    {{ float_literal(100.0) }} * count(*) filter (where {{ flag }}) / nullif(count({{ flag }}), 0)
{%- endmacro %}

{#-
    On time: delivered on or before the promised date, comparing calendar dates in UTC
    (a delivery at 23:59 UTC on the promised date is on time, at 00:00 the next day late).
    Null when nothing was promised or nothing delivered yet.
-#}
{% macro is_on_time(delivered_at, promised_date) -%}
    case
        when {{ promised_date }} is null or {{ delivered_at }} is null then null
        else {{ utc_date(delivered_at) }} <= {{ promised_date }}
    end
{%- endmacro %}

{#- Complaint rate: complaints per 1,000 orders. -#}
{% macro per_thousand(numerator, denominator) -%}
    {{ float_literal(1000.0) }} * {{ numerator }} / nullif({{ denominator }}, 0)
{%- endmacro %}

{#- Median and 90th percentile (continuous, interpolated) of a duration or gap. -#}
{% macro median_of(value) -%}
    {{ quantile_cont(value, 0.5) }}
{%- endmacro %}

{% macro p90_of(value) -%}
    {{ quantile_cont(value, 0.9) }}
{%- endmacro %}

{#-
    Net sentiment: % positive minus % negative among the rated comments and posts
    (polarity +1, 0 or -1), from -100 to 100.
-#}
{% macro net_sentiment(polarity) -%}
    {{ float_literal(100.0) }} * (
        count(*) filter (where {{ polarity }} > 0)
        - count(*) filter (where {{ polarity }} < 0)
    ) / nullif(count({{ polarity }}), 0)
{%- endmacro %}

{#- Polarity of a comment or post from the score given with it: 4-5 of 5 positive, 1-2 negative, 3 neutral. -#}
{% macro polarity_from_score(score) -%}
    case
        when {{ score }} is null then null
        when {{ score }} >= 4 then 1
        when {{ score }} <= 2 then -1
        else 0
    end
{%- endmacro %}

{#-
    RFM quintile score 1-5 of a value (recency: the date of the last purchase; monetary: net
    revenue in the reporting currency) among the customers with a purchase, honest under ties:
      score = 1 + floor(5 × (rank - 1) / (n - 1)), at most 5
    where rank is the position of the first of the equal values in ascending order (SQL
    rank()), i.e. 1 + floor(5 × percent_rank). Equal values share the LOWER score: a tie
    never lifts a customer into a quintile that customers above them occupy, the lowest
    value always scores 1 and the highest 5. With nothing to rank against (one customer,
    or every customer on the same value) each gets the middle score 3.
    Integer numerator and denominator keep the quintile boundaries exact.
-#}
{% macro quintile_score(value) -%}
    case
        when min({{ value }}) over () = max({{ value }}) over () then 3
        else least(
            5,
            1 + floor(
                5 * (rank() over (order by {{ value }}) - 1)
                / nullif(count(*) over () - 1, 0)
            )
        )::integer
    end
{%- endmacro %}

{#-
    RFM frequency score 1-5 from the number of purchases, by business thresholds (var
    cx_rfm_frequency_min_orders: the fewest purchases for scores 2, 3, 4 and 5; default
    [2, 3, 5, 8], so 1 purchase -> 1, 2 -> 2, 3-4 -> 3, 5-7 -> 4, 8 or more -> 5).
    Thresholds rather than quintiles: when most customers bought once, a quintile of
    counts puts them all at the top (ties) or leaves scores empty; a threshold means the
    same on every data set.
-#}
{% macro frequency_score(orders) -%}
    {%- set thresholds = var('cx_rfm_frequency_min_orders') -%}
    {%- if thresholds | length != 4 -%}
        {{ exceptions.raise_compiler_error("var cx_rfm_frequency_min_orders needs four thresholds (scores 2-5), got " ~ thresholds) }}
    {%- endif -%}
    case
        when {{ orders }} is null or {{ orders }} < 1 then null
        {%- for minimum in thresholds | reverse %}
        when {{ orders }} >= {{ minimum }} then {{ 5 - loop.index0 }}
        {%- endfor %}
        else 1
    end
{%- endmacro %}

{#-
    Named RFM segment from the recency score r and frequency score f (1-5), first match wins:
      champions          r >= 4 and f >= 4
      loyal              r >= 3 and f >= 3  (and not champions)
      new                r >= 4 and f = 1
      potential loyalists r >= 3 and f <= 2 (and not new)
      cannot lose        r = 1 and f >= 4
      at risk            r <= 2 and f >= 3  (and not cannot lose)
      hibernating        r = 2 and f <= 2
      lost               r = 1 and f <= 2
    The rules cover all 25 (r, f) cells exactly once.
-#}
{% macro rfm_segment(r, f) -%}
    case
        when {{ r }} is null or {{ f }} is null then 'prospect'
        when {{ r }} >= 4 and {{ f }} >= 4 then 'champions'
        when {{ r }} >= 3 and {{ f }} >= 3 then 'loyal'
        when {{ r }} >= 4 and {{ f }} = 1 then 'new'
        when {{ r }} >= 3 then 'potential loyalists'
        when {{ r }} = 1 and {{ f }} >= 4 then 'cannot lose'
        when {{ f }} >= 3 then 'at risk'
        when {{ r }} = 2 then 'hibernating'
        else 'lost'
    end
{%- endmacro %}

{#-
    Difference of two percentages (p1 - p2, in points) and the half-width of its 95 %
    confidence interval by the normal approximation (Wald):
    1.96 × 100 × sqrt(p1(1-p1)/n1 + p2(1-p2)/n2), with p as shares.
-#}
{% macro pct_diff_ci_half_width(p1, n1, p2, n2) -%}
    1.96 * 100.0 * sqrt(
        ({{ p1 }} / 100.0) * (1 - {{ p1 }} / 100.0) / nullif({{ n1 }}, 0)
        + ({{ p2 }} / 100.0) * (1 - {{ p2 }} / 100.0) / nullif({{ n2 }}, 0)
    )
{%- endmacro %}

{#-
    Composite index 0-100: weighted mean of the normalised components that are
    present (weights are the var cx_index_weights; a missing component drops out).
-#}
{% macro composite_index(csat, nps, ces, on_time_pct) -%}
    {%- set w = var('cx_index_weights') -%}
    {%- set parts = [
        (csat, w['csat']),
        ('((' ~ nps ~ ') + 100) / 2.0', w['nps']),
        ('((' ~ ces ~ ') - 1) / 6.0 * 100', w['ces']),
        (on_time_pct, w['on_time']),
    ] -%}
    (
        {%- for expr, weight in parts %}
        coalesce(({{ expr }}) * {{ weight }}, 0){% if not loop.last %} +{% endif %}
        {%- endfor %}
    ) / nullif(
        {%- for expr, weight in parts %}
        case when ({{ expr }}) is not null then {{ weight }} else 0 end{% if not loop.last %} +{% endif %}
        {%- endfor %}
    , 0)
{%- endmacro %}
