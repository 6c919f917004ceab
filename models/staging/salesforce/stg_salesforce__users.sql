with source as (
    select * from {{ source('salesforce', 'user') }}
),

renamed as (
    select
        cast(id as varchar) as user_id,
        cast(username as varchar) as username,
        cast(name as varchar) as user_name,
        cast(first_name as varchar) as first_name,
        cast(last_name as varchar) as last_name,
        cast(email as varchar) as email,
        cast(title as varchar) as title,
        cast(is_active as boolean) as is_active,
        cast(manager_id as varchar) as manager_id,
        cast(sales_role__c as varchar) as sales_role,
        cast(territory__c as varchar) as territory,
        cast(region__c as varchar) as region,
        {{ money('quarterly_quota__c') }} as quarterly_quota,
        {{ to_utc_timestamp('created_date') }} as created_at,
        {{ to_utc_timestamp('system_modstamp') }} as system_modstamp,
        cast(_dlt_load_id as varchar) as _dlt_load_id
    from source
)

select * from renamed
