{#-
    Where DuckDB SQL and Spark SQL differ, the models call these macros (adapter.dispatch):
    default__ is DuckDB's text, spark__ Spark SQL's. Everything else in the models is SQL both
    engines read alike (Spark 4 has qualify, group by all, `::` casts, count(*) filter (...),
    date +/- interval, exists (...) in a select list). See docs/spark.md.
-#}

{#-
    A decimal literal that takes part in division or a percentage: DuckDB's decimal arithmetic
    ends in DOUBLE, Spark's stays DECIMAL (with a scale cut at 6 digits), so Spark reads it as a
    DOUBLE literal (100.0D) and both engines compute in floating point.
-#}
{% macro float_literal(value) -%}
    {{ return(adapter.dispatch('float_literal', 'cxpipe')(value)) }}
{%- endmacro %}

{% macro default__float_literal(value) -%}
    {{ value }}
{%- endmacro %}

{% macro spark__float_literal(value) -%}
    {{ value }}D
{%- endmacro %}

{#- A SQL type by DuckDB's name (varchar, timestamptz, …) in the engine's own words. -#}
{% macro sql_type(name) -%}
    {{ return(adapter.dispatch('sql_type', 'cxpipe')(name)) }}
{%- endmacro %}

{% macro default__sql_type(name) -%}
    {{ name }}
{%- endmacro %}

{% macro spark__sql_type(name) -%}
    {%- set spark_types = {
        'varchar': 'string',
        'text': 'string',
        'timestamptz': 'timestamp',
        'timestamp with time zone': 'timestamp',
        'integer': 'int',
    } -%}
    {{ spark_types.get(name | lower | trim, name) }}
{%- endmacro %}

{#- Calendar date of a timestamp with time zone, in UTC (Spark: the build's session time zone is UTC). -#}
{% macro utc_date(ts) -%}
    {{ return(adapter.dispatch('utc_date', 'cxpipe')(ts)) }}
{%- endmacro %}

{% macro default__utc_date(ts) -%}
    ({{ ts }} at time zone 'UTC')::date
{%- endmacro %}

{% macro spark__utc_date(ts) -%}
    to_date({{ ts }})
{%- endmacro %}

{#-
    Number of `part` boundaries (day, minute, second) from start_at to end_at, as DuckDB's
    date_diff counts them: calendar days between the two dates, whole minutes or seconds of
    the clock between the two instants.
-#}
{% macro date_diff(part, start_at, end_at) -%}
    {{ return(adapter.dispatch('date_diff', 'cxpipe')(part, start_at, end_at)) }}
{%- endmacro %}

{% macro default__date_diff(part, start_at, end_at) -%}
    date_diff('{{ part }}', {{ start_at }}, {{ end_at }})
{%- endmacro %}

{% macro spark__date_diff(part, start_at, end_at) -%}
    {%- if part == 'day' -%}
        cast(datediff(to_date({{ end_at }}), to_date({{ start_at }})) as bigint)
    {%- elif part == 'second' -%}
        (unix_timestamp({{ end_at }}) - unix_timestamp({{ start_at }}))
    {%- elif part == 'minute' -%}
        cast(floor(unix_timestamp({{ end_at }}) / 60) - floor(unix_timestamp({{ start_at }}) / 60) as bigint)
    {%- else -%}
        {{ exceptions.raise_compiler_error("date_diff: unsupported part '" ~ part ~ "' on Spark") }}
    {%- endif -%}
{%- endmacro %}

{#- An interval of n days, to add to a timestamp. -#}
{% macro days_interval(days) -%}
    {{ return(adapter.dispatch('days_interval', 'cxpipe')(days)) }}
{%- endmacro %}

{% macro default__days_interval(days) -%}
    to_days({{ days }})
{%- endmacro %}

{% macro spark__days_interval(days) -%}
    make_dt_interval({{ days }})
{%- endmacro %}

{#- The value of `value` on the row where `ordering` is largest. -#}
{% macro arg_max(value, ordering, tie_break=none) -%}
    {{ return(adapter.dispatch('arg_max', 'cxpipe')(value, ordering, tie_break)) }}
{%- endmacro %}

{#- `tie_break`: a second column deciding between rows with the same `ordering` (otherwise the pick
    follows the engine's execution order, which may differ from one build to the next). -#}
{% macro default__arg_max(value, ordering, tie_break=none) -%}
    {%- if tie_break -%}
        arg_max({{ value }}, row({{ ordering }}, {{ tie_break }}))
    {%- else -%}
        arg_max({{ value }}, {{ ordering }})
    {%- endif -%}
{%- endmacro %}

{% macro spark__arg_max(value, ordering, tie_break=none) -%}
    {%- if tie_break -%}
        max_by({{ value }}, struct({{ ordering }}, {{ tie_break }}))
    {%- else -%}
        max_by({{ value }}, {{ ordering }})
    {%- endif -%}
{%- endmacro %}

{#- Continuous (interpolated) quantile of a column. -#}
{% macro quantile_cont(value, fraction) -%}
    {{ return(adapter.dispatch('quantile_cont', 'cxpipe')(value, fraction)) }}
{%- endmacro %}

{% macro default__quantile_cont(value, fraction) -%}
    quantile_cont({{ value }}, {{ fraction }})
{%- endmacro %}

{% macro spark__quantile_cont(value, fraction) -%}
    percentile({{ value }}, {{ fraction }})
{%- endmacro %}

{#-
    One row per step from first to last (both included), in a column named `name`: the select
    list of a CTE. DuckDB's series of dates are timestamps (as_date: cast to dates); Spark's
    sequence of dates is dates.
-#}
{% macro date_series(first, last, step, name, as_date=false) -%}
    {{ return(adapter.dispatch('date_series', 'cxpipe')(first, last, step, name, as_date)) }}
{%- endmacro %}

{% macro default__date_series(first, last, step, name, as_date) -%}
    select unnest(generate_series({{ first }}, {{ last }}, interval {{ step }})){{ '::date' if as_date }} as {{ name }}
{%- endmacro %}

{% macro spark__date_series(first, last, step, name, as_date) -%}
    select explode(sequence({{ first }}, {{ last }}, interval {{ step }})) as {{ name }}
{%- endmacro %}

{#-
    Upper tail of the Poisson distribution, P(X >= k) for X ~ Poisson(lambda): the sum of
    P(X = i) for i from k to k + 399. DuckDB sums the terms from lgamma; Spark has no lgamma,
    so it takes log k! as a sum of logs and each next term by the recurrence
    P(X = i + 1) = P(X = i) * lambda / (i + 1).
-#}
{% macro poisson_upper_tail(k, lambda) -%}
    {{ return(adapter.dispatch('poisson_upper_tail', 'cxpipe')(k, lambda)) }}
{%- endmacro %}

{% macro default__poisson_upper_tail(k, lambda) -%}
    list_sum(
                list_transform(
                    range({{ k }}, {{ k }} + 400),
                    lambda k: exp(-{{ lambda }} + k * ln({{ lambda }}) - lgamma(k + 1))
                )
            )
{%- endmacro %}

{% macro spark__poisson_upper_tail(k, lambda) -%}
    aggregate(
        sequence({{ k }} + 1, {{ k }} + 399),
        named_struct(
            'term', exp(-{{ lambda }} + {{ k }} * ln({{ lambda }})
                - aggregate(sequence(1, greatest({{ k }}, 1)), 0D, (acc, i) -> acc + ln(i))),
            'total', exp(-{{ lambda }} + {{ k }} * ln({{ lambda }})
                - aggregate(sequence(1, greatest({{ k }}, 1)), 0D, (acc, i) -> acc + ln(i)))
        ),
        (acc, i) -> named_struct(
            'term', acc.term * {{ lambda }} / i,
            'total', acc.total + acc.term * {{ lambda }} / i
        ),
        acc -> acc.total
    )
{%- endmacro %}
