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
  (a chain of 200 identifiers: 8). Scratch tables are the model's name + __cc_ids, __cc_graph, __cc_a, __cc_b,
  __cc_propagated; the model's post-hook drops the labels.
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
    {%- set scratch = model.identifier ~ '__cc_' -%}
    {%- set named = {} -%}
    {%- for name in ['ids', 'graph', 'a', 'b', 'propagated'] -%}
        {%- do named.update({name: model.incorporate(path={'identifier': scratch ~ name}, type='table')}) -%}
    {%- endfor -%}
    {%- set steps = [named['a'], named['b']] -%}
    {%- set labels = component_labels(model) -%}
    {%- for relation in named.values() | list + [labels] %}{% do adapter.drop_relation(relation) %}{% endfor -%}

    {#- a number for every node; then both directions of every edge, once, as numbers: the pairs are made distinct
        as integers, not as identifier strings (a distinct over 6M text pairs ran out of memory at 512 MB) -#}
    {%- set linked = "(select node_a as a, node_b as b from " ~ edges ~
                     " where node_a is not null and node_b is not null)" -%}
    {#- the distinct nodes in buckets of their hash, each bucket's distinct on its own: DuckDB's distinct over 6M
        identifier strings (12.9M occurrences at scale 1350) asked for one 128 MiB block at 512 MB and failed:
        7 buckets there; one (a single distinct) in a small warehouse -#}
    {%- set occurrences = 2 * run_committed("select count(*) from " ~ linked ~ " as e").columns[0].values()[0] -%}
    {%- set buckets = distinct_buckets(occurrences) -%}
    {%- set parts = [] -%}
    {%- for bucket in range(buckets) -%}
        {%- do parts.append("select node from (select a as node from " ~ linked ~ " as e union all select b from "
                            ~ linked ~ " as e) as n" ~ (" where " ~ bucket_of('node', buckets) ~ " = " ~ bucket
                            if buckets > 1 else "") ~ " group by node") -%}
    {%- endfor -%}
    {%- do run_committed(get_create_table_as_sql(False, named['ids'], "
        select node, " ~ unique_row_number() ~ " as id from (
            " ~ parts | join("
            union all
            ") ~ "
        )")) -%}
    {%- do run_committed(get_create_table_as_sql(False, named['graph'], "
        with numbered as (
            select ia.id as a, ib.id as b
            from " ~ linked ~ " as e
            inner join " ~ named['ids'] ~ " as ia on ia.node = e.a
            inner join " ~ named['ids'] ~ " as ib on ib.node = e.b
        )

        select a, b from numbered
        union
        select b, a from numbered")) -%}
    {%- set graph = named['graph'] -%}
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
    {#- back to the identifiers: each component's label is its smallest node's text -#}
    {%- do run_committed(get_create_table_as_sql(False, labels, "
        with members as (
            select i.node, l.label
            from " ~ steps[state.current] ~ " as l
            inner join " ~ named['ids'] ~ " as i on i.id = l.node
        ),

        smallest as (
            select label, min(node) as smallest_node
            from members
            group by label
        )

        select m.node, s.smallest_node as label
        from members as m
        inner join smallest as s on s.label = m.label")) -%}
    {%- for relation in [steps[state.current], named['ids'], graph] %}{% do adapter.drop_relation(relation) %}{% endfor -%}
    {{- log("connected components of " ~ edges ~ ": " ~ state.rounds ~ " rounds") -}}
    {{- return('') -}}
{%- endmacro %}
