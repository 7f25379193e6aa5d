{#-
    Filter of an incremental model: on an incremental run keep the source rows whose
    landing date is at most cx_incremental_lookback_days before the newest landing date
    already in the model (late and corrected rows are re-read and replace their key);
    on a full refresh keep everything. `where` names the rows of the model that the
    newest date is taken from (one promise type, for instance).
-#}
{% macro incremental_window(column='load_date', this_column='load_date', where=none) -%}
    {%- if is_incremental() -%}
        {{ column }} >= (
            select coalesce(max({{ this_column }}), date '1900-01-01')
            from {{ this }}
            {%- if where %} where {{ where }}{% endif %}
        ) - interval {{ var('cx_incremental_lookback_days') }} day
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}
