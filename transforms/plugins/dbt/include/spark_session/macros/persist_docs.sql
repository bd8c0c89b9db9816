{#-
  Descriptions as comments on every table format, for the Python models too. dbt-spark writes a model's
  description only in a SQL model's `create table ... comment`, and column descriptions only for Delta, Hudi and
  Iceberg tables; Spark's catalog keeps both for a Parquet table as well (COMMENT ON TABLE; the columns' comments
  in the table's schema, as ALTER TABLE ... CHANGE COLUMN ... COMMENT writes them), so a reader of the catalog (the
  publication, a BI tool over the Thrift server) sees the model's docs as on DuckDB.
-#}
{% macro spark_session__persist_docs(relation, model, for_relation, for_columns) -%}
  {% if for_relation and config.persist_relation_docs() and model.description %}
    {% do run_query("comment on table " ~ relation ~ " is " ~ spark_session__comment_literal(model.description)) %}
  {% endif %}
  {{ spark__persist_docs(relation, model, for_relation, for_columns) }}
{%- endmacro %}

{#- Every documented column's comment in one change of the table's schema (the adapter's set_column_comments), not
  one `alter table ... change column ... comment` each: one update of the metastore's table per model. -#}
{% macro spark_session__alter_column_comment(relation, column_dict) %}
  {% set comments = {} %}
  {% for column_name in column_dict %}
    {% do comments.update({column_name: column_dict[column_name]['description']}) %}
  {% endfor %}
  {% do adapter.set_column_comments(relation, comments) %}
{% endmacro %}

{#- Spark SQL's string literal of `text` (a backslash escapes). -#}
{% macro spark_session__comment_literal(text) -%}
  '{{ text | replace('\\', '\\\\') | replace("'", "\\'") }}'
{%- endmacro %}
