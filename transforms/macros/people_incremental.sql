{#-
  Person-local incremental models: a model whose rows for a person depend only on that person's touches and
  conversions rebuilds only the people whose inputs changed. Every such model keeps a ledger
  (`intermediate.<model>__people`: person_id, fingerprint) of the fingerprints it was built from, and reads its input's
  ledger (`upstream`: int_people__fingerprinted for the first model of the chain, the ledger of the model it
  reads for the others). People to rebuild: a fingerprint in `upstream` that differs from this model's ledger,
  new people and vanished ones (merged into another person) included. Their rows are deleted (pre-hook) and
  built again (the model filters with `people_to_rebuild`); the ledger then takes `upstream`'s fingerprints
  (post-hook). A failed or skipped model keeps its old ledger, so its next run rebuilds those people again:
  runs converge to a full build whatever was selected or failed in between. The settings a model's logic
  reads (its config `people_settings`: vars) enter its ledger's fingerprints, so changing one rebuilds everyone
  in it and in the models after it, even when a run selects only some models.

  Usage in a model:
    config(materialized=people_materialization(), incremental_strategy='append', people_settings=[var('...'), ...],
           pre_hook="{{ delete_people_to_rebuild(ref('...')) }}", post_hook="{{ record_people_built(ref('...')) }}")
    ... where {{ people_to_rebuild(ref('...')) }}
-#}

{#- The ledger of a person-local incremental model: bookkeeping, so in the intermediate schema whatever the
    model's (a mart's schema holds what readers get). -#}
{% macro people_ledger(relation) -%}
    {{- return(relation.incorporate(path={"schema": generate_schema_name("intermediate", none),
                                          "identifier": relation.identifier ~ "__people"})) -}}
{%- endmacro %}

{#- The ledger an upstream relation stands for: int_people__fingerprinted is its own. -#}
{% macro _upstream_ledger(upstream) -%}
    {{- return(upstream if upstream.identifier == "int_people__fingerprinted" else people_ledger(upstream)) -}}
{%- endmacro %}

{#- Whether this run rebuilds only some people: an incremental run with the model's ledger in place. -#}
{% macro _rebuilds_some_people() -%}
    {#- a unit test's `this` is no relation: it builds the model whole -#}
    {%- if not execute or this is none or this.identifier is none or not is_incremental() -%}
        {{- return(false) -}}
    {%- endif -%}
    {%- set ledger = people_ledger(this) -%}
    {{- return(adapter.get_relation(database=ledger.database, schema=ledger.schema, identifier=ledger.identifier)
               is not none) -}}
{%- endmacro %}

{#- Each person's fingerprint in `upstream` with this model's settings: what its ledger records. -#}
{% macro _fingerprints_with_settings(upstream) -%}
    select person_id, {{ hash_of(['fingerprint', dbt.string_literal(tojson(config.get("people_settings", [])))]) }} as fingerprint
    from {{ _upstream_ledger(upstream) }}
{%- endmacro %}

{#- A predicate on `column` (default person_id): true for the people this run rebuilds. -#}
{% macro people_to_rebuild(upstream, column="person_id") -%}
    {%- if _rebuilds_some_people() -%}
    {{ column }} in (
        select person_id
        from ({{ _fingerprints_with_settings(upstream) }}) as now_
        full outer join {{ people_ledger(this) }} as built_ using (person_id)
        where now_.fingerprint is distinct from built_.fingerprint
    )
    {%- else -%}
    true
    {%- endif -%}
{%- endmacro %}

{#- Pre-hook: the rows of the people to rebuild go, and the rows matching `also` (a predicate: rows a run always
    rebuilds); all rows when the ledger is missing (a model that was a table before, or whose ledger was dropped). -#}
{% macro delete_people_to_rebuild(upstream, also=none) -%}
    {%- if execute and is_incremental() -%}
    delete from {{ this }} where {{ people_to_rebuild(upstream) }}{% if also %} or ({{ also }}){% endif %}
    {%- endif -%}
{%- endmacro %}

{#- Post-hook: the model now holds every person as of `upstream`'s fingerprints. -#}
{% macro record_people_built(upstream) -%}
    {%- if config.get('materialized') == 'incremental' -%}  {#- a table rebuilt whole keeps no ledger (Spark) -#}
    create or replace table {{ people_ledger(this) }} as {{ _fingerprints_with_settings(upstream) }}
    {%- endif -%}
{%- endmacro %}
