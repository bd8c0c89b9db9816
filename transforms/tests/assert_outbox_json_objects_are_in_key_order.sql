-- The JSON objects the outboxes send name their keys in order (macro ordered_json_object): the same content is
-- the same payload, and the same content hash in the push ledger, in every build.
select 'outbox_convertloop__events' as outbox, row_key, channel_credits as payload
from {{ ref('outbox_convertloop__events') }}
where {{ json_keys_of('channel_credits') }} <> {{ sorted_list(json_keys_of('channel_credits')) }}
union all
select 'outbox_convertloop__people', row_key, lifetime_revenue
from {{ ref('outbox_convertloop__people') }}
where {{ json_keys_of('lifetime_revenue') }} <> {{ sorted_list(json_keys_of('lifetime_revenue')) }}
