{#- The model's grain: no two rows share the same values in `combination_of_columns`. -#}
{% test unique_combination_of_columns(model, combination_of_columns) %}
select {{ combination_of_columns | join(', ') }}, count(*) as rows
from {{ model }}
group by all
having count(*) > 1
{% endtest %}
