{#- Each vendor's view of an order as columns of `relation`: `<vendor>_revenue` for every vendor, then
    `<vendor>_record_id` for every vendor, each followed by a comma. -#}
{% macro vendor_view_columns(relation) %}
    {%- for suffix in ['revenue', 'record_id'] %}
    {%- for vendor in vendor_names() %}
    {{ relation }}.{{ vendor }}_{{ suffix }},
    {%- endfor %}
    {%- endfor %}
{% endmacro %}
