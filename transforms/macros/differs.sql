{#- Whether two sums of the same figures differ by more than floating-point rounding: relative to their
    magnitude (one part in `relative`, and never less than that of 1), so amounts in the millions (IDR, VND,
    KRW shops) are held to the same precision as amounts in units. A NaN or an infinity always differs. -#}
{% macro differs(a, b, relative=1e-9) -%}
    not (abs(({{ a }}) - ({{ b }})) <= {{ relative }} * greatest(1.0, abs({{ a }}), abs({{ b }})))
{%- endmacro %}
