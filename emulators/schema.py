"""The emulators' own stores: one SQLite file per vendor, one table per object or record type.

This module is the contract between the demo-company generator (which fills the stores), the two
emulators (which serve them over HTTP) and the tests (which compare the warehouse with them).

Value conventions inside the stores:

* Salesforce: datetimes are TEXT ``YYYY-MM-DDTHH:MM:SS.000+0000`` (UTC, so text order is time order),
  dates TEXT ``YYYY-MM-DD``, booleans INTEGER 0/1, currency and numbers REAL, ids 18-character TEXT.
  Deleted rows stay in the table with ``IsDeleted = 1`` (the recycle bin), as in Salesforce.
* NetSuite: ids INTEGER, datetimes TEXT ``YYYY-MM-DD HH:MM:SS`` (UTC), dates TEXT ``YYYY-MM-DD``,
  booleans TEXT ``'T'``/``'F'`` (as SuiteQL returns them), money REAL. Deleted records are removed from
  their table and recorded in ``deletedrecord``, as SuiteQL exposes them.

Columns whose name starts with ``_`` are the emulator's bookkeeping and are never served.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # Salesforce: id, reference, string, picklist, textarea, email, phone, url, boolean,
    #            currency, double, percent, int, date, datetime.  NetSuite: integer, text, float, date,
    #            datetime, checkbox ('T'/'F' text).
    label: str = ""
    reference_to: str | None = None  # Salesforce reference fields: the parent object
    picklist: tuple[str, ...] = ()

    @property
    def sqlite_type(self) -> str:
        if self.type in {"boolean", "int", "integer"}:
            return "INTEGER"
        if self.type in {"currency", "double", "percent", "float"}:
            return "REAL"
        return "TEXT"


def _c(name: str, type_: str, label: str = "", ref: str | None = None, picklist: tuple[str, ...] = ()):
    return Column(name, type_, label or name, ref, picklist)


OPPORTUNITY_STAGES: tuple[str, ...] = (
    "Prospecting",
    "Qualification",
    "Needs Analysis",
    "Value Proposition",
    "Id. Decision Makers",
    "Perception Analysis",
    "Proposal/Price Quote",
    "Negotiation/Review",
    "Closed Won",
    "Closed Lost",
)
# Default probability and forecast category of each stage, as in a new Salesforce org.
STAGE_PROBABILITY = {
    "Prospecting": 10,
    "Qualification": 10,
    "Needs Analysis": 20,
    "Value Proposition": 50,
    "Id. Decision Makers": 60,
    "Perception Analysis": 70,
    "Proposal/Price Quote": 75,
    "Negotiation/Review": 90,
    "Closed Won": 100,
    "Closed Lost": 0,
}
STAGE_FORECAST_CATEGORY = {
    "Prospecting": "Pipeline",
    "Qualification": "Pipeline",
    "Needs Analysis": "Pipeline",
    "Value Proposition": "Pipeline",
    "Id. Decision Makers": "Pipeline",
    "Perception Analysis": "Best Case",
    "Proposal/Price Quote": "Best Case",
    "Negotiation/Review": "Commit",
    "Closed Won": "Closed",
    "Closed Lost": "Omitted",
}
FORECAST_CATEGORIES = ("Omitted", "Pipeline", "Best Case", "Commit", "Closed")

_AUDIT = (
    _c("CreatedDate", "datetime", "Created Date"),
    _c("LastModifiedDate", "datetime", "Last Modified Date"),
    _c("SystemModstamp", "datetime", "System Modstamp"),
)
_DELETABLE = (_c("IsDeleted", "boolean", "Deleted"),)

# Salesforce object -> (3-character key prefix of its ids, columns). Order of columns is describe order.
SALESFORCE_OBJECTS: dict[str, tuple[str, tuple[Column, ...]]] = {
    "User": (
        "005",
        (
            _c("Id", "id", "User ID"),
            _c("Username", "string"),
            _c("Name", "string", "Full Name"),
            _c("FirstName", "string", "First Name"),
            _c("LastName", "string", "Last Name"),
            _c("Email", "email"),
            _c("Title", "string"),
            _c("IsActive", "boolean", "Active"),
            _c("ManagerId", "reference", "Manager ID", "User"),
            _c("Sales_Role__c", "picklist", "Sales Role",
               picklist=("Sales Executive", "Sales Manager", "Sales Rep", "Finance", "Integration")),
            _c("Territory__c", "string", "Territory"),
            _c("Region__c", "string", "Region"),
            _c("Quarterly_Quota__c", "currency", "Quarterly Quota"),
            *_AUDIT,
        ),
    ),
    "Account": (
        "001",
        (
            _c("Id", "id", "Account ID"),
            _c("Name", "string", "Account Name"),
            _c("Type", "picklist", "Account Type", picklist=("Customer", "Prospect", "Partner", "Other")),
            _c("Industry", "picklist"),
            _c("BillingCity", "string", "Billing City"),
            _c("BillingState", "string", "Billing State/Province"),
            _c("BillingCountry", "string", "Billing Country"),
            _c("Phone", "phone", "Account Phone"),
            _c("Website", "url"),
            _c("AnnualRevenue", "currency", "Annual Revenue"),
            _c("NumberOfEmployees", "int", "Employees"),
            _c("OwnerId", "reference", "Owner ID", "User"),
            _c("NetSuite_Customer_Id__c", "string", "NetSuite Customer Id"),
            *_DELETABLE,
            *_AUDIT,
        ),
    ),
    "Contact": (
        "003",
        (
            _c("Id", "id", "Contact ID"),
            _c("AccountId", "reference", "Account ID", "Account"),
            _c("FirstName", "string", "First Name"),
            _c("LastName", "string", "Last Name"),
            _c("Name", "string", "Full Name"),
            _c("Title", "string"),
            _c("Email", "email"),
            _c("Phone", "phone", "Business Phone"),
            _c("OwnerId", "reference", "Owner ID", "User"),
            *_DELETABLE,
            *_AUDIT,
        ),
    ),
    "Opportunity": (
        "006",
        (
            _c("Id", "id", "Opportunity ID"),
            _c("Name", "string", "Opportunity Name"),
            _c("AccountId", "reference", "Account ID", "Account"),
            _c("OwnerId", "reference", "Owner ID", "User"),
            _c("StageName", "picklist", "Stage", picklist=OPPORTUNITY_STAGES),
            _c("Amount", "currency"),
            _c("Probability", "percent", "Probability (%)"),
            _c("CloseDate", "date", "Close Date"),
            _c("IsClosed", "boolean", "Closed"),
            _c("IsWon", "boolean", "Won"),
            _c("ForecastCategoryName", "picklist", "Forecast Category", picklist=FORECAST_CATEGORIES),
            _c("Type", "picklist", "Opportunity Type",
               picklist=("New Business", "Existing Business", "Renewal")),
            _c("LeadSource", "picklist", "Lead Source",
               picklist=("Web", "Phone Inquiry", "Partner Referral", "Trade Show", "Other")),
            _c("NextStep", "string", "Next Step"),
            _c("Product_Category__c", "picklist", "Product Category"),
            _c("LastActivityDate", "date", "Last Activity"),
            *_DELETABLE,
            *_AUDIT,
        ),
    ),
    "OpportunityHistory": (
        "008",
        (
            _c("Id", "id", "Opportunity History ID"),
            _c("OpportunityId", "reference", "Opportunity ID", "Opportunity"),
            _c("StageName", "picklist", "Stage", picklist=OPPORTUNITY_STAGES),
            _c("Amount", "currency"),
            _c("ExpectedRevenue", "currency", "Expected Revenue"),
            _c("CloseDate", "date", "Close Date"),
            _c("Probability", "percent", "Probability (%)"),
            _c("ForecastCategory", "picklist", "Forecast Category", picklist=FORECAST_CATEGORIES),
            _c("CreatedById", "reference", "Created By ID", "User"),
            _c("CreatedDate", "datetime", "Created Date"),
            _c("SystemModstamp", "datetime", "System Modstamp"),
            *_DELETABLE,
        ),
    ),
    "Task": (
        "00T",
        (
            _c("Id", "id", "Activity ID"),
            _c("Subject", "string"),
            _c("TaskSubtype", "picklist", "Task Subtype", picklist=("Task", "Email", "Call")),
            _c("ActivityDate", "date", "Due Date Only"),
            _c("Status", "picklist", picklist=("Not Started", "In Progress", "Completed", "Deferred")),
            _c("Priority", "picklist", picklist=("High", "Normal", "Low")),
            _c("IsClosed", "boolean", "Closed"),
            _c("WhatId", "reference", "Related To ID", "Opportunity"),
            _c("WhoId", "reference", "Name ID", "Contact"),
            _c("AccountId", "reference", "Account ID", "Account"),
            _c("OwnerId", "reference", "Assigned To ID", "User"),
            *_DELETABLE,
            *_AUDIT,
        ),
    ),
    "Event": (
        "00U",
        (
            _c("Id", "id", "Activity ID"),
            _c("Subject", "string"),
            _c("ActivityDate", "date", "Due Date Only"),
            _c("StartDateTime", "datetime", "Start"),
            _c("EndDateTime", "datetime", "End"),
            _c("DurationInMinutes", "int", "Duration"),
            _c("Location", "string"),
            _c("WhatId", "reference", "Related To ID", "Opportunity"),
            _c("WhoId", "reference", "Name ID", "Contact"),
            _c("AccountId", "reference", "Account ID", "Account"),
            _c("OwnerId", "reference", "Assigned To ID", "User"),
            *_DELETABLE,
            *_AUDIT,
        ),
    ),
}

# NetSuite record types as SuiteQL sees them: table -> columns. All lower case, as SuiteQL is.
NETSUITE_TABLES: dict[str, tuple[Column, ...]] = {
    "employee": (
        _c("id", "integer"),
        _c("entityid", "text"),
        _c("firstname", "text"),
        _c("lastname", "text"),
        _c("email", "text"),
        _c("issalesrep", "checkbox"),
        _c("isinactive", "checkbox"),
        _c("custentity_scc_sf_user_id", "text", "Salesforce User Id"),
        _c("datecreated", "datetime"),
        _c("lastmodifieddate", "datetime"),
    ),
    "location": (
        _c("id", "integer"),
        _c("name", "text"),
        _c("isinactive", "checkbox"),
        _c("lastmodifieddate", "datetime"),
    ),
    "customer": (
        _c("id", "integer"),
        _c("entityid", "text"),
        _c("companyname", "text"),
        _c("email", "text"),
        _c("phone", "text"),
        _c("salesrep", "integer"),
        _c("creditlimit", "float"),
        _c("balance", "float"),
        _c("terms", "text"),
        _c("category", "text"),
        _c("isinactive", "checkbox"),
        _c("externalid", "text", "External ID (the Salesforce Account Id)"),
        _c("datecreated", "datetime"),
        _c("lastmodifieddate", "datetime"),
    ),
    "item": (
        _c("id", "integer"),
        _c("itemid", "text", "Name/SKU"),
        _c("displayname", "text"),
        _c("salesdescription", "text"),
        _c("itemtype", "text"),
        _c("custitem_scc_category", "text", "Product Category"),
        _c("baseprice", "float"),
        _c("custitem_scc_min_price", "float", "Minimum Price"),
        _c("cost", "float"),
        _c("isinactive", "checkbox"),
        _c("externalid", "text"),
        _c("createddate", "datetime"),
        _c("lastmodifieddate", "datetime"),
    ),
    "inventoryitemlocations": (
        _c("item", "integer"),
        _c("location", "integer"),
        _c("quantityonhand", "float"),
        _c("quantityavailable", "float"),
        _c("quantitycommitted", "float"),
        _c("quantitybackordered", "float"),
        _c("lastmodifieddate", "datetime"),
    ),
    "transaction": (
        _c("id", "integer"),
        _c("tranid", "text", "Document Number"),
        _c("type", "text", "SalesOrd | CustInvc"),
        _c("entity", "integer", "Customer"),
        _c("employee", "integer", "Sales Rep"),
        _c("trandate", "date"),
        _c("duedate", "date"),
        _c("status", "text", "Status code (see NETSUITE_STATUS)"),
        _c("foreigntotal", "float", "Total"),
        _c("foreignamountunpaid", "float", "Amount Remaining (invoices)"),
        _c("createdfrom", "integer", "Source transaction (an invoice's sales order)"),
        _c("memo", "text"),
        _c("externalid", "text"),
        _c("source", "text", "Where the record was entered"),
        _c("createddate", "datetime"),
        _c("lastmodifieddate", "datetime"),
    ),
    "transactionline": (
        _c("uniquekey", "integer", "Globally unique line key"),
        _c("transaction", "integer"),
        _c("id", "integer", "Line id within its transaction (0 = main line)"),
        _c("linesequencenumber", "integer"),
        _c("mainline", "checkbox"),
        _c("item", "integer"),
        _c("location", "integer"),
        _c("quantity", "float"),
        _c("rate", "float"),
        _c("foreignamount", "float", "Line amount"),
        _c("quantityshiprecv", "float", "Quantity fulfilled"),
        _c("quantitybilled", "float"),
        _c("isclosed", "checkbox"),
        _c("linelastmodifieddate", "datetime"),
    ),
    "deletedrecord": (
        _c("id", "integer"),
        _c("recordid", "integer", "Internal id of the deleted record"),
        _c("recordtype", "text", "salesorder | invoice | customer | item"),
        _c("name", "text"),
        _c("deleteddate", "datetime"),
    ),
}
NETSUITE_PRIMARY_KEYS = {
    "employee": ("id",),
    "location": ("id",),
    "customer": ("id",),
    "item": ("id",),
    "inventoryitemlocations": ("item", "location"),
    "transaction": ("id",),
    "transactionline": ("uniquekey",),
    "deletedrecord": ("id",),
}

# Sales order status codes and labels (BUILTIN.DF(status) gives the label with the type prefix).
NETSUITE_SALES_ORDER_STATUS = {
    "A": "Pending Approval",
    "B": "Pending Fulfillment",
    "C": "Cancelled",
    "D": "Partially Fulfilled",
    "E": "Pending Billing/Partially Fulfilled",
    "F": "Pending Billing",
    "G": "Billed",
    "H": "Closed",
}
NETSUITE_INVOICE_STATUS = {"A": "Open", "B": "Paid In Full"}
NETSUITE_STATUS_LABELS = {
    "SalesOrd": ("Sales Order", NETSUITE_SALES_ORDER_STATUS),
    "CustInvc": ("Invoice", NETSUITE_INVOICE_STATUS),
}


def salesforce_columns(obj: str) -> tuple[Column, ...]:
    return SALESFORCE_OBJECTS[obj][1]


def create_salesforce_store(path: Path) -> sqlite3.Connection:
    """Create an empty Salesforce store at ``path`` (replacing any file there)."""
    conn = _fresh(path)
    for obj, (_, columns) in SALESFORCE_OBJECTS.items():
        cols = ", ".join(f'"{c.name}" {c.sqlite_type}' for c in columns)
        conn.execute(f'CREATE TABLE "{obj}" ({cols}, PRIMARY KEY ("Id"))')
        if any(c.name == "SystemModstamp" for c in columns):
            conn.execute(f'CREATE INDEX "ix_{obj}_modstamp" ON "{obj}" ("SystemModstamp")')
    conn.execute('CREATE INDEX "ix_OpportunityHistory_opp" ON "OpportunityHistory" ("OpportunityId")')
    # Fields added at run time (custom fields) are recorded here so describe can type them.
    conn.execute(
        "CREATE TABLE _custom_fields (object TEXT, name TEXT, type TEXT, label TEXT, PRIMARY KEY (object, name))"
    )
    return conn


def create_netsuite_store(path: Path) -> sqlite3.Connection:
    """Create an empty NetSuite store at ``path`` (replacing any file there)."""
    conn = _fresh(path)
    for table, columns in NETSUITE_TABLES.items():
        cols = ", ".join(f'"{c.name}" {c.sqlite_type}' for c in columns)
        pk = ", ".join(f'"{k}"' for k in NETSUITE_PRIMARY_KEYS[table])
        conn.execute(f'CREATE TABLE "{table}" ({cols}, PRIMARY KEY ({pk}))')
    conn.execute('CREATE INDEX ix_tl_transaction ON transactionline ("transaction")')
    conn.execute('CREATE INDEX ix_tx_modified ON "transaction" (lastmodifieddate)')
    conn.execute('CREATE UNIQUE INDEX ix_tx_externalid ON "transaction" (externalid) WHERE externalid IS NOT NULL')
    conn.execute("CREATE INDEX ix_tx_type ON \"transaction\" (type, id)")
    return conn


def open_store(path: Path, *, readonly: bool = False) -> sqlite3.Connection:
    """Open an existing store. Readers (tests, benchmarks) pass ``readonly=True``."""
    if readonly:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
    else:
        conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA busy_timeout=10000")
    return conn


def _fresh(path: Path) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF")
    return conn
