{#- A count of vendors is between 1 and the number of vendors in the vendor_priorities seed. -#}
{% test within_vendor_count(model, column_name) %}
select {{ column_name }}
from {{ model }}
where {{ column_name }} < 1
   or {{ column_name }} > (select count(*) from {{ ref('vendor_priorities') }})
{% endtest %}
