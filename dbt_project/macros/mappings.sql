{#-
    Source values -> the business's canonical values, through the mapping seeds that analysts
    edit (order_status_map, category_map, sales_channel_map, ticket_channel_map; see
    docs/marts.md, "Mappings"). The join ignores case, blanks at either end and the kind of
    separator: "Postal mail", " postal_mail " and "POSTAL-MAIL" share the key "postal mail".
-#}
{% macro mapping_key(value) -%}
    {{ return(adapter.dispatch('mapping_key', 'cxpipe')(value)) }}
{%- endmacro %}

{% macro default__mapping_key(value) -%}
    regexp_replace(lower(trim({{ value }})), '[\s_-]+', ' ', 'g')
{%- endmacro %}

{#- Spark: every match is replaced without an option; the pattern is a Java string literal (\\s). -#}
{% macro spark__mapping_key(value) -%}
    regexp_replace(lower(trim({{ value }})), '[\\s_-]+', ' ')
{%- endmacro %}

{#-
    The canonical value of a mapped column: `unknown` when the source left it empty,
    `unmapped` when the source value has no row in the map (never dropped, never null; the
    warn test no_unmapped_values lists such values with their counts).
-#}
{% macro mapped_value(source_value, canonical_value) -%}
    case
        when nullif(trim({{ source_value }}), '') is null then 'unknown'
        else coalesce({{ canonical_value }}, 'unmapped')
    end
{%- endmacro %}

{#-
    A map seed keyed for the join: one row per mapping key (a seed whose rows collide on the
    key fails its unique_mapping_key test, which blocks the build before any staging model).
-#}
{% macro mapping(seed, source_column) -%}
    select
        {{ mapping_key(source_column) }} as mapping_key,
        *
    from {{ ref(seed) }}
{%- endmacro %}

{#- A free-form code normalised: lower case, trimmed, blanks and hyphens as one underscore ("Web Shop" -> web_shop). -#}
{% macro normalized_code(value) -%}
    {{ return(adapter.dispatch('normalized_code', 'cxpipe')(value)) }}
{%- endmacro %}

{% macro default__normalized_code(value) -%}
    nullif(regexp_replace(lower(trim({{ value }})), '[\s-]+', '_', 'g'), '')
{%- endmacro %}

{% macro spark__normalized_code(value) -%}
    nullif(regexp_replace(lower(trim({{ value }})), '[\\s-]+', '_'), '')
{%- endmacro %}
