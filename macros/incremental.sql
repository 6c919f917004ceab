{#- Incremental facts that follow their sources exactly, updates and deletions included.

    A fact row is (re)written when its own source rows were loaded at or after the newest load the fact
    has already seen (the `_dlt_load_id` of each row, per pipeline: `>=` re-reads the newest load in case
    a build saw it half-merged), or when anything it copies from elsewhere (customer, rep, territory, ...)
    differs from what the table holds (every column is compared). Each incremental fact selects from an
    intermediate view that computes the whole fact; rows no longer in that view (their source rows were
    deleted) are removed by the `delete_vanished_rows` post-hook. So a series of incremental runs gives the same table as a full
    refresh. -#}

{% macro changed_rows_filter(source_relation, new_alias, old_alias, key, load_id_columns) -%}
    {#- Every column of the existing table but the key is compared. When the source has columns the
        table lacks (the model gained a column), every row is rewritten, so the new column is filled. -#}
    {%- set compared = [] -%}
    {%- set missing = [] -%}
    {%- if execute -%}
        {%- set existing_names = [] -%}
        {%- for column in adapter.get_columns_in_relation(this) -%}
            {%- do existing_names.append(column.name | lower) -%}
            {%- if column.name | lower != key | lower -%}
                {%- do compared.append(column.name | lower) -%}
            {%- endif -%}
        {%- endfor -%}
        {%- for column in adapter.get_columns_in_relation(source_relation) -%}
            {%- if column.name | lower not in existing_names -%}
                {%- do missing.append(column.name | lower) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {{ old_alias }}.{{ key }} is null
    {%- if missing %}
    or true  {#- new columns: {{ missing | join(', ') }} #}
    {%- endif %}
    {%- for load_id in load_id_columns %}
    or {{ new_alias }}.{{ load_id }} >= coalesce((select max({{ load_id }}) from {{ this }}), '')
    {%- endfor %}
    {%- for column in compared %}
    or {{ new_alias }}.{{ column }} is distinct from {{ old_alias }}.{{ column }}
    {%- endfor %}
{%- endmacro %}

{% macro delete_vanished_rows(key, source_relation) -%}
    {%- if is_incremental() -%}
    delete from {{ this }}
    where not exists (
        select 1 from {{ source_relation }} as source_rows
        where source_rows.{{ key }} = {{ this }}.{{ key }}
    )
    {%- else -%}
    select 1
    {%- endif -%}
{%- endmacro %}
