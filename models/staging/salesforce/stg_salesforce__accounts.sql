with source as (
    select * from {{ source('salesforce', 'account') }}
),

renamed as (
    select
        cast(id as varchar) as account_id,
        cast(name as varchar) as account_name,
        cast(type as varchar) as account_type,
        cast(industry as varchar) as industry,
        cast(billing_city as varchar) as billing_city,
        cast(billing_state as varchar) as billing_state,
        cast(billing_country as varchar) as billing_country,
        cast(phone as varchar) as phone,
        cast(website as varchar) as website,
        {{ money('annual_revenue') }} as annual_revenue,
        cast(number_of_employees as bigint) as number_of_employees,
        cast(owner_id as varchar) as owner_id,
        cast(net_suite_customer_id__c as varchar) as netsuite_customer_ref,
        cast(is_deleted as boolean) as is_deleted,
        {{ to_utc_timestamp('created_date') }} as created_at,
        {{ to_utc_timestamp('last_modified_date') }} as last_modified_at,
        {{ to_utc_timestamp('system_modstamp') }} as system_modstamp,
        cast(_dlt_load_id as varchar) as _dlt_load_id
    from source
)

select * from renamed
