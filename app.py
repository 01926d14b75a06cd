"""The Omnishop REST API: one Chalice app, one blueprint per TM Forum API. Nothing else."""
from chalice import ConvertToMiddleware

from chalicelib import http, observability, settings
from chalicelib.appointment.api import bp as appointment_api
from chalicelib.basket.api import bp as basket_api
from chalicelib.campaign.api import bp as campaign_api
from chalicelib.campaign.api import landing_bp as campaign_landing
from chalicelib.campaign.api import recommendation_bp as recommendation_api
from chalicelib.catalog.api import bp as catalog_api
from chalicelib.customer.api import bp as customer_api
from chalicelib.customer.api import interaction_bp as interaction_api
from chalicelib.docs import api as docs_api
from chalicelib.inventory.api import bp as inventory_api
from chalicelib.notify.api import bp as notify_api
from chalicelib.ordering.api import bp as ordering_api
from chalicelib.quote.api import bp as quote_api

from chalicelib.payment.api import bp as payment_api

from chalicelib.promotion.api import bp as promotion_api
from chalicelib.recovery.api import bp as recovery_api
from chalicelib.rules.api import bp as rules_api
from chalicelib.stock.api import bp as stock_api
from chalicelib.system import bp as system_api

app = http.App(app_name="omnishop")  # the request per thread (see http.App)
app.api.binary_types = []  # every body is JSON text
app.register_middleware(http.chalice_errors, "http")  # Chalice's own answers (405, 415, ...) as TMF errors
app.register_middleware(ConvertToMiddleware(observability.traced(name="api")))  # X-Ray: ColdStart annotated
app.register_blueprint(system_api)
app.register_blueprint(catalog_api, url_prefix="/tmf-api/productCatalogManagement/v4")
app.register_blueprint(customer_api, url_prefix="/tmf-api/customerManagement/v4")
app.register_blueprint(interaction_api, url_prefix="/tmf-api/partyInteraction/v4")
app.register_blueprint(basket_api, url_prefix="/tmf-api/shoppingCart/v4")
app.register_blueprint(rules_api, url_prefix="/tmf-api/productOfferingQualification/v4")
app.register_blueprint(notify_api, url_prefix="/tmf-api/communicationManagement/v4")
app.register_blueprint(recovery_api, url_prefix="/recovery")
app.register_blueprint(ordering_api, url_prefix="/tmf-api/productOrderingManagement/v4")
app.register_blueprint(inventory_api, url_prefix="/tmf-api/productInventory/v4")
app.register_blueprint(stock_api, url_prefix="/tmf-api/stockManagement/v4")
app.register_blueprint(appointment_api, url_prefix="/tmf-api/appointment/v4")

app.register_blueprint(payment_api, url_prefix="/tmf-api/paymentManagement/v4")
app.register_blueprint(campaign_api, url_prefix="/tmf-api/campaignManagement/v4")
app.register_blueprint(recommendation_api, url_prefix="/tmf-api/recommendationManagement/v4")
app.register_blueprint(campaign_landing)
app.register_blueprint(quote_api, url_prefix="/tmf-api/quoteManagement/v4")

app.register_blueprint(promotion_api, url_prefix="/tmf-api/promotionManagement/v4")

if settings.local_mode():
    from chalicelib.local_token import bp as local_token_api

    app.register_blueprint(local_token_api)

docs_api.register(app)   # last: it documents every route registered above
