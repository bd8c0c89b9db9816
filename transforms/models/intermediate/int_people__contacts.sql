-- How a destination can address each stitched person: the email and the Webmarketer user id their vendor
-- records carry (the most recent record's, when several differ).
select
    person_id,
    max_by(email, converted_at) filter (where email is not null) as email,
    max_by(user_id, converted_at) filter (where user_id is not null) as user_id
from {{ ref('int_conversion_records__matched') }}
where person_id is not null
group by person_id
