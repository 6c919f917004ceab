{#- The product's one clock. `scc build` passes scc.config.today() as the `today` variable; models never
    use current_date, so a pinned SCC_TODAY gives the same marts on any day. -#}
{% macro scc_today() -%}
    {%- set value = var('today', none) -%}
    {%- if value is none -%}
        {%- if execute -%}
            {{ exceptions.raise_compiler_error(
                "The `today` variable is not set: run the project through `scc build`, or pass "
                ~ "--vars '{today: YYYY-MM-DD}'") }}
        {%- endif -%}
        {%- set value = '1970-01-01' -%}
    {%- endif -%}
    {%- set text = value | string -%}
    {%- if not modules.re.match('^[0-9]{4}-[0-9]{2}-[0-9]{2}$', text) -%}
        {{ exceptions.raise_compiler_error("The `today` variable must be a date YYYY-MM-DD, got " ~ text) }}
    {%- endif -%}
    cast('{{ text }}' as date)
{%- endmacro %}
