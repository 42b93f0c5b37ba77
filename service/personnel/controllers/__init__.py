"""HTTP for personnel, by what each controller serves: a vendor's people and one person
(`people`), the bureau's authorisations and results import (`bureau`); their answers'
shapes in `outputs`, the shared upload steps in `uploads`. The app wires them from here."""

from service.personnel.controllers.bureau import CheckImportController, ConsentController
from service.personnel.controllers.people import PeopleController, VendorPeopleController

__all__ = ["CheckImportController", "ConsentController", "PeopleController", "VendorPeopleController"]
