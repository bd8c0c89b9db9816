{#- A currency as an ISO 4217 code (three letters, upper case), or null: a vendor's free text (`usd `, `$`, HTML)
    must not become a currency of its own in the marts and the dashboard. The value as sent stays beside it in the
    staging models that carry money (`currency_sent`), so data_quality can show what was refused. -#}
{% macro currency_code(column) -%}
    case when {{ regexp_full_match('upper(trim(' ~ column ~ '))', "'[A-Z]{3}'") }} then upper(trim({{ column }})) end
{%- endmacro %}
