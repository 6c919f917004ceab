{#- NetSuite sales order status (the code 'A'..'H', or 'SalesOrd:A', or the label) to the marts' status
    and to the four order states of sales-metrics.md. -#}
{% macro netsuite_order_status_code(column) -%}
    case
        when {{ column }} is null then null
        when length({{ column }}) = 1 then upper({{ column }})
        when {{ column }} like 'SalesOrd:_' then upper(substr({{ column }}, 10, 1))
        when lower({{ column }}) like '%pending approval%' then 'A'
        when lower({{ column }}) like '%pending billing/partially fulfilled%' then 'E'
        when lower({{ column }}) like '%pending billing%' then 'F'
        when lower({{ column }}) like '%pending fulfillment%' then 'B'
        when lower({{ column }}) like '%partially fulfilled%' then 'D'
        when lower({{ column }}) like '%cancelled%' then 'C'
        when lower({{ column }}) like '%billed%' then 'G'
        when lower({{ column }}) like '%closed%' then 'H'
    end
{%- endmacro %}

{% macro order_status_from_code(code) -%}
    case {{ code }}
        when 'A' then 'pending_approval'
        when 'B' then 'pending_fulfillment'
        when 'C' then 'cancelled'
        when 'D' then 'partially_fulfilled'
        when 'E' then 'partially_fulfilled'
        when 'F' then 'pending_billing'
        when 'G' then 'billed'
        when 'H' then 'closed'
    end
{%- endmacro %}

{% macro order_status_group_from_code(code) -%}
    case
        when {{ code }} in ('A', 'B') then 'pending'
        when {{ code }} in ('D', 'E') then 'partial'
        when {{ code }} in ('F', 'G', 'H') then 'fulfilled'
        when {{ code }} = 'C' then 'cancelled'
    end
{%- endmacro %}
