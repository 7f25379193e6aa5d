{#-
    Satisfaction metrics, defined once. See docs/metrics.md and the doc blocks in
    models/docs.md. Each macro is an aggregate over the answers of one group.
-#}

{#- CSAT: share of 1-5 answers that are 4 or 5, in percent. -#}
{% macro csat_pct(score) -%}
    100.0 * count(*) filter (where {{ score }} >= 4) / nullif(count({{ score }}), 0)
{%- endmacro %}

{#- NPS: % promoters (9-10) minus % detractors (0-6), from -100 to 100. -#}
{% macro nps(score) -%}
    100.0 * (
        count(*) filter (where {{ score }} >= 9)
        - count(*) filter (where {{ score }} <= 6)
    ) / nullif(count({{ score }}), 0)
{%- endmacro %}

{#- CES: mean of the 1-7 effort answer (7 = very easy). -#}
{% macro ces(score) -%}
    avg({{ score }})
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
