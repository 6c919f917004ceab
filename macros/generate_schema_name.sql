{#- Models go to exactly the schema they are configured with (`staging`, `intermediate`, `marts`),
    not dbt's default `<target schema>_<custom schema>`: the marts contract names the schema `marts`. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
