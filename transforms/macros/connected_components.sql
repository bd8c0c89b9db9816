{#-
  Connected components of an identifier graph, in SQL that runs on any engine (DuckDB, Spark): iterative
  min-label propagation with pointer jumping, each round one join and one aggregate over the edges, so memory is
  the engine's (it spills; nothing is collected in Python) and the work spreads over a cluster's workers.

  label_components(edges, model) runs as the model's pre-hook, before its transaction, each statement committed on
  its own (a DuckLake cannot commit a transaction that created and dropped a table): from `edges` (columns node_a,
  node_b) it writes the table component_labels(model) of (node, label), label = the smallest node of the node's
  component.
  The rounds run on integers: each node gets a unique number first (any numbering: the smallest node is picked by
  its text at the end), so a round's joins and aggregates hash 8-byte keys, not identifier strings: DuckDB spills
  them under a small memory limit where the strings' joins ran out of memory (2M nodes under 512 MB), and the
  whole takes a little less time despite the numbering and the way back (scale 450: 12.8 s, was 14.3 s).
  A round: each node takes the smallest label among itself and its neighbours (one aggregate), then the label of
  that label (pointer jumping, which halves the distance to the smallest node), each a statement of its own; the
  rounds stop when no label changed. Labels only fall and stay inside the component, so the fixed point is the
  same label everywhere in a component (its smallest number); rounds grow with the log of a component's diameter
  (a chain of 200 identifiers: 8).

  Incrementally (a model materialized `incremental`: DuckDB, a DuckLake): the numbers are kept (`_<model>__nodes`,
  node -> id, only ever appended, so an id means the same node in every run) and so is the numbered graph the
  model's rows were built from (`_<model>__edges`). A run numbers the nodes it has not seen, numbers the graph
  again, and compares: the components of every node on an edge added or removed since (as the model holds them),
  with those nodes, are labelled again, over the graph's edges among them; every other component is as it was,
  since none of its edges changed. An added edge merges the components at its ends, a removed one may split its
  component: both are exact, and equal a full build's labels (each component's smallest node, whatever the
  numbering). The model deletes those nodes' rows and appends their new labels, and the kept graph takes the
  changes, in one transaction (record_components_built): a failed run leaves rows and graph as they were, and
  the next run compares with the graph the rows were built from. `--full-refresh`, or a missing graph, labels
  everything again. What a run still reads whole: the edges, to number and compare them (two joins); what it
  skips: the rounds over the whole graph.
  Scratch tables are the model's name + __cc_ and a role; stitching_scratch_dropped(model), after the model's
  commit, drops them and the labels.
-#}
{% macro component_labels(model) -%}
    {{- return(model.incorporate(path={'identifier': model.identifier ~ '__labels'}, type='table')) -}}
{%- endmacro %}

{#- A statement outside any transaction (each commits on its own); its result as an agate table. -#}
{% macro run_committed(sql) -%}
    {%- call statement('label_components', fetch_result=True, auto_begin=False) -%}{{ sql }}{%- endcall -%}
    {{- return(load_result('label_components').table) -}}
{%- endmacro %}

{% macro label_components(edges, model, max_rounds=64) -%}
    {%- if not execute -%}{{ return('') }}{%- endif -%}
    {%- set named = _component_scratch(model) -%}
    {%- set state = component_state(model) -%}
    {%- set labels = component_labels(model) -%}
    {%- do stitching_scratch_dropped(model) -%}  {#- what a failed run left -#}
    {%- set kept = config.get('materialized') == 'incremental' -%}
    {#- both kept before this run, or the numbers and the graph may not belong together: everything is labelled -#}
    {%- set compare = kept and is_incremental() and _relation_exists(state['nodes'])
                      and _relation_exists(state['edges']) -%}
    {%- set ids = state['nodes'] if kept else named['ids'] -%}
    {%- set graph = named['graph'] -%}

    {#- a number for every node; then both directions of every edge, once, as numbers: the pairs are made distinct
        as integers, not as identifier strings (a distinct over 6M text pairs ran out of memory at 512 MB) -#}
    {%- set linked = "(select node_a as a, node_b as b from " ~ edges ~
                     " where node_a is not null and node_b is not null)" -%}
    {#- the distinct nodes in buckets of their hash, each bucket's distinct on its own: DuckDB's distinct over 6M
        identifier strings (12.9M occurrences at scale 1350) asked for one 128 MiB block at 512 MB and failed:
        7 buckets there; one (a single distinct) in a small warehouse -#}
    {%- set buckets = distinct_buckets("select 2 * count(*) from " ~ linked ~ " as e") -%}
    {%- set parts = [] -%}
    {%- for bucket in range(buckets) -%}
        {%- do parts.append("select node from (select a as node from " ~ linked ~ " as e union all select b from "
                            ~ linked ~ " as e) as n" ~ (" where " ~ bucket_of('node', buckets) ~ " = " ~ bucket
                            if buckets > 1 else "") ~ " group by node") -%}
    {%- endfor -%}
    {%- set distinct_nodes = parts | join("
            union all
            ") -%}
    {%- if kept -%}
        {#- the nodes not numbered before take the numbers after the largest: a node keeps its number for good.
            An anti join (a hash join, which spills), never `not exists`: DuckDB runs that as a delim join whose
            distinct over every node ran out of memory at scale 1350 under 512 MB, as one distinct did before the
            buckets (the kept path runs on DuckDB only) -#}
        {%- do run_committed("create table if not exists " ~ ids ~ " (node " ~ sql_type('varchar') ~ ", id bigint)") -%}
        {%- do run_committed("
            insert into " ~ ids ~ "
            select n.node, (select coalesce(max(id), 0) from " ~ ids ~ ") + " ~ unique_row_number() ~ " as id
            from (
                " ~ distinct_nodes ~ "
            ) as n
            anti join " ~ ids ~ " as k on k.node = n.node") -%}
    {%- else -%}
        {%- do run_committed(get_create_table_as_sql(False, ids, "
            select node, " ~ unique_row_number() ~ " as id from (
                " ~ distinct_nodes ~ "
            )")) -%}
    {%- endif -%}
    {%- do run_committed(get_create_table_as_sql(False, graph, "
        with numbered as (
            select ia.id as a, ib.id as b
            from " ~ linked ~ " as e
            inner join " ~ ids ~ " as ia on ia.node = e.a
            inner join " ~ ids ~ " as ib on ib.node = e.b
        )

        select a, b from numbered
        union
        select b, a from numbered")) -%}

    {%- if compare -%}
        {%- set to_label = _changed_components(model, named, state, graph) -%}
    {%- else -%}
        {%- set to_label = graph -%}
        {%- if kept and is_incremental() -%}  {#- no graph kept to compare with: every row is labelled again -#}
            {%- do run_committed(get_create_table_as_sql(False, named['drop'], "select node from " ~ model)) -%}
        {%- endif -%}
    {%- endif -%}
    {%- set final = _propagated_labels(to_label, named, max_rounds, edges) -%}

    {#- back to the identifiers: each component's label is its smallest node's text -#}
    {%- do run_committed(get_create_table_as_sql(False, labels, "
        with members as (
            select i.node, l.label
            from " ~ final ~ " as l
            inner join " ~ ids ~ " as i on i.id = l.node
        ),

        smallest as (
            select label, min(node) as smallest_node
            from members
            group by label
        )

        select m.node, s.smallest_node as label
        from members as m
        inner join smallest as s on s.label = m.label")) -%}
    {%- for relation in [final, named['ids'], named['subgraph']] + ([] if kept else [graph]) -%}
        {%- do adapter.drop_relation(relation) -%}
    {%- endfor -%}
    {{- return('') -}}
{%- endmacro %}

{#- The kept state of an incrementally labelled model: its nodes' numbers and the numbered graph of its rows.
    Bookkeeping, named as such (a leading `_`, as dlt's and the change filter's tables): the numbers depend on the
    order nodes arrived in, so two equal builds may differ there (pipelines.fingerprint leaves them out). -#}
{% macro component_state(model) -%}
    {{- return({'nodes': model.incorporate(path={'identifier': '_' ~ model.identifier ~ '__nodes'}, type='table'),
                'edges': model.incorporate(path={'identifier': '_' ~ model.identifier ~ '__edges'}, type='table')}) -}}
{%- endmacro %}

{% macro _component_scratch(model) -%}
    {%- set named = {} -%}
    {%- for name in ['ids', 'graph', 'a', 'b', 'propagated', 'added', 'removed', 'drop', 'subgraph'] -%}
        {%- do named.update({name: model.incorporate(path={'identifier': model.identifier ~ '__cc_' ~ name},
                                                     type='table')}) -%}
    {%- endfor -%}
    {{- return(named) -}}
{%- endmacro %}

{#- Whether `relation` is in the database now (not as dbt's cache had it when the run began). -#}
{% macro _relation_exists(relation) -%}
    {%- set found = run_committed("select count(*) from information_schema.tables where table_catalog = '"
                                  ~ relation.database ~ "' and table_schema = '" ~ relation.schema
                                  ~ "' and table_name = '" ~ relation.identifier ~ "'") -%}
    {{- return(found.columns[0].values()[0] > 0) -}}
{%- endmacro %}

{#- The edges added and removed since the kept graph (named 'added', 'removed'; the graph is symmetric, so each
    change holds both directions), the model's rows to delete ('drop': every node of a component with a changed
    edge, and the nodes of those edges; with their numbers), and the graph's edges among those nodes ('subgraph', returned): closed, since
    an edge from such a node is either kept, so inside its component, or changed, so its other end is there too. -#}
{% macro _changed_components(model, named, state, graph) -%}
    {%- set nodes, edges = state['nodes'], state['edges'] -%}
    {#- anti joins, as in numbering the nodes: no delim join's distinct over every pair -#}
    {%- do run_committed(get_create_table_as_sql(False, named['added'], "
        select g.a, g.b from " ~ graph ~ " as g
        anti join " ~ edges ~ " as e on e.a = g.a and e.b = g.b")) -%}
    {%- do run_committed(get_create_table_as_sql(False, named['removed'], "
        select e.a, e.b from " ~ edges ~ " as e
        anti join " ~ graph ~ " as g on g.a = e.a and g.b = e.b")) -%}
    {%- do run_committed(get_create_table_as_sql(False, named['drop'], "
        with changed as (
            select a as id from " ~ named['added'] ~ "
            union
            select a from " ~ named['removed'] ~ "
        ),

        changed_nodes as (
            select n.node, n.id
            from changed as c
            inner join " ~ nodes ~ " as n on n.id = c.id
        ),

        changed_people as (
            select distinct t.person_id
            from changed_nodes as c
            inner join " ~ model ~ " as t on t.node = c.node
        ),

        their_nodes as (
            select t.node
            from " ~ model ~ " as t
            inner join changed_people as p on p.person_id = t.person_id
        )

        select t.node, n.id
        from their_nodes as t
        inner join " ~ nodes ~ " as n on n.node = t.node
        union
        select node, id from changed_nodes")) -%}
    {%- do run_committed(get_create_table_as_sql(False, named['subgraph'], "
        select g.a, g.b
        from " ~ graph ~ " as g
        where g.a in (select id from " ~ named['drop'] ~ ")")) -%}
    {{- return(named['subgraph']) -}}
{%- endmacro %}

{#- The rounds over `graph`'s edges (a, b; both directions): the table of (node, label) they end with. -#}
{% macro _propagated_labels(graph, named, max_rounds, edges) -%}
    {%- set steps = [named['a'], named['b']] -%}
    {%- do run_committed(get_create_table_as_sql(False, steps[0], "
        select a as node, least(a, min(b)) as label from " ~ graph ~ " group by a")) -%}
    {%- set state = namespace(current=0, changed=1, rounds=0) -%}
    {%- for round in range(max_rounds) if state.changed > 0 -%}
        {%- set before, after = steps[state.current], steps[1 - state.current] -%}
        {#- the smallest of a node's own label and its neighbours' as one aggregate over a union, in a table of its own:
            the neighbours' minimum joined back to the labels and then jumped in one statement ran out of memory at
            64 MB in about one run of ten (DuckDB 1.4, one thread, 375k nodes) and in every run at 48 MB -#}
        {%- do run_committed(get_create_table_as_sql(False, named['propagated'], "
            select node, min(label) as label
            from (
                select e.a as node, l.label
                from " ~ graph ~ " as e
                inner join " ~ before ~ " as l on l.node = e.b
                union all
                select node, label from " ~ before ~ "
            ) as candidates
            group by node")) -%}
        {%- do run_committed(get_create_table_as_sql(False, after, "
            select p.node, j.label
            from " ~ named['propagated'] ~ " as p
            inner join " ~ named['propagated'] ~ " as j on j.node = p.label")) -%}
        {%- do adapter.drop_relation(named['propagated']) -%}
        {%- set state.changed = run_committed("select count(*) from " ~ after ~ " as n inner join " ~ before ~
                                          " as o on o.node = n.node where n.label <> o.label").columns[0].values()[0] -%}
        {%- do adapter.drop_relation(before) -%}
        {%- set state.current, state.rounds = 1 - state.current, state.rounds + 1 -%}
    {%- endfor -%}
    {%- if state.changed > 0 -%}
        {{- exceptions.raise_compiler_error("connected components of " ~ edges ~ ": labels still changed after "
                                            ~ max_rounds ~ " rounds") -}}
    {%- endif -%}
    {%- set labelled = run_committed("select count(*) from " ~ steps[state.current]).columns[0].values()[0] -%}
    {{- log("connected components of " ~ edges ~ ": " ~ state.rounds ~ " rounds over " ~ graph.identifier ~ ", "
            ~ labelled ~ " nodes labelled") -}}
    {{- return(steps[state.current]) -}}
{%- endmacro %}

{#- Pre-hook, in the model's transaction: the rows of the nodes labelled again go (all, with no graph kept). -#}
{% macro delete_relabelled_nodes(model) -%}
    {%- if execute and is_incremental() -%}
    delete from {{ model }} where node in (select node from {{ _component_scratch(model)['drop'] }})
    {%- endif -%}
{%- endmacro %}

{#- Post-hook, in the model's transaction: the kept graph becomes the one the rows were just built from. -#}
{% macro record_components_built(model) -%}
    {%- if execute and config.get('materialized') == 'incremental' -%}
    {%- set named, edges = _component_scratch(model), component_state(model)['edges'] -%}
    {%- if _relation_exists(named['removed']) -%}
    delete from {{ edges }} as e using {{ named['removed'] }} as r where e.a = r.a and e.b = r.b;
    insert into {{ edges }} select a, b from {{ named['added'] }}
    {%- else -%}
    create or replace table {{ edges }} as select a, b from {{ named['graph'] }}
    {%- endif -%}
    {%- endif -%}
{%- endmacro %}

{#- Post-hook, after the model's commit: the scratch tables and the labels go. Statements of their own: ''. -#}
{% macro stitching_scratch_dropped(model) -%}
    {%- if execute -%}
        {%- for relation in _component_scratch(model).values() | list + [component_labels(model)] -%}
            {%- do adapter.drop_relation(relation) -%}
        {%- endfor -%}
    {%- endif -%}
    {{- return('') -}}
{%- endmacro %}
