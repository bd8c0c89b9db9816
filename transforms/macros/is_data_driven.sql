{#- A predicate: `column` names a data-driven attribution model (var attribution_models). -#}
{% macro is_data_driven(column) -%}
    {{ column }} in ('{{ var("attribution_models")["data_driven"] | join("', '") }}')
{%- endmacro %}
