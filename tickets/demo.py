"""Demo tickets: about thirty cases with conversations, in every status, made through the
services (so numbers, system entries, events and SLA timers are real)."""
from __future__ import annotations

from helpdesk.tenancy.demo import DemoTenant, register_demo_seeder
from tickets.models import Channel, Priority, Status, TicketType, Via

AGENT = "agent@demo.test"
BILLING = "billing@demo.test"
OWNER = "owner@demo.test"
LIGHT = "light@demo.test"

# (subject, first message, requester (index into demo.contacts or an email), channel, priority, type, tags,
#  team, steps). Steps: ("assign", email) ("reply", email, text) ("note", email, text)
#  ("customer", text) ("status", status) ("priority", priority).
SCENARIOS: list[tuple] = [
    ("Order 1001 has not arrived", "I ordered two weeks ago and the parcel is still not here.", 0, Channel.EMAIL,
     Priority.HIGH, TicketType.INCIDENT, ["delivery", "late"], "Support",
     [("assign", AGENT), ("reply", AGENT, "Sorry about that, Nancy. I have asked the courier and will update you "
                                          "today."), ("status", Status.PENDING)]),
    ("Invoice shows the wrong VAT number", "Our VAT number on invoice INV-2231 is wrong, please correct it.", 1,
     Channel.EMAIL, Priority.NORMAL, TicketType.QUESTION, ["invoice"], "Billing",
     [("assign", BILLING), ("note", BILLING, "@[Olivia Owner] can we reissue invoices from last quarter?"),
      ("reply", BILLING, "We have corrected it; the new invoice is attached to your account.")]),
    ("Kargom hasarlı geldi", "Merhaba, gelen kolinin köşesi ezilmiş ve ürün kırık.", 2, Channel.SOCIAL,
     Priority.HIGH, TicketType.COMPLAINT, ["hasar", "iade"], "Support",
     [("assign", AGENT), ("reply", AGENT, "Merhaba Ayşe Hanım, çok üzgünüz. Fotoğraf gönderebilir misiniz?"),
      ("customer", "Fotoğrafları ekledim."), ("status", Status.ON_HOLD)]),
    ("Cannot log in to the shop", "The password reset email never arrives.", 3, Channel.WEB, Priority.URGENT,
     TicketType.INCIDENT, ["login"], "Support", []),
    ("Refund for a cancelled order", "I cancelled order 1042 within the hour; when do I get my money back?", 3,
     Channel.CHAT, Priority.NORMAL, TicketType.QUESTION, ["refund"], "Billing",
     [("assign", BILLING), ("reply", BILLING, "The refund was issued today; it takes 3-5 business days."),
      ("status", Status.SOLVED)]),
    ("Bulk order discount", "We would like 200 units for our stores. Is there a volume price?", 1, Channel.EMAIL,
     Priority.LOW, TicketType.QUESTION, ["sales"], None, []),
    ("Wrong size delivered", "I ordered M and received XL.", 0, Channel.WEB, Priority.NORMAL,
     TicketType.INCIDENT, ["exchange"], "Support",
     [("assign", AGENT), ("reply", AGENT, "We are sending the right size today; keep the XL until the courier "
                                          "collects it."), ("customer", "Thanks! When will the courier come?"),
      ("reply", AGENT, "Tomorrow between 9 and 12."), ("status", Status.SOLVED)]),
    ("Payment declined twice", "My card is fine but the checkout declines it.", "leo.martin@mail.example",
     Channel.CHAT, Priority.HIGH, TicketType.INCIDENT, ["payment"], "Billing",
     [("note", LIGHT, "Payment provider had an incident at 10:00, see status page.")]),
    ("Change delivery address", "Please deliver order 1077 to my office instead.", 0, Channel.PHONE,
     Priority.NORMAL, TicketType.TASK, ["address"], "Support",
     [("assign", AGENT), ("reply", AGENT, "Done: the courier has the new address."), ("status", Status.SOLVED)]),
    ("Toplu fatura talebi", "Mart ayı faturalarımızı tek PDF olarak alabilir miyiz?", 2, Channel.EMAIL,
     Priority.LOW, TicketType.QUESTION, ["fatura"], "Billing",
     [("assign", BILLING), ("reply", BILLING, "Elbette, hazırlayıp iletiyoruz."), ("status", Status.PENDING)]),
    ("Courier outage in the north region", "Several customers report no deliveries since Monday.", 1,
     Channel.API, Priority.URGENT, TicketType.PROBLEM, ["delivery", "outage"], "Support",
     [("assign", OWNER), ("note", OWNER, "Tracking this as a problem; link the incidents here.")]),
    ("App crashes on the checkout page", "iPhone 12, iOS 17: the app closes when I tap Pay.", 3, Channel.WEB,
     Priority.HIGH, TicketType.INCIDENT, ["app", "checkout"], "Support",
     [("assign", AGENT), ("reply", AGENT, "Thanks for the details, our developers are on it."),
      ("status", Status.ON_HOLD)]),
    ("Where is my loyalty discount?", "My 10% loyalty discount was not applied.", 0, Channel.EMAIL,
     Priority.NORMAL, TicketType.QUESTION, ["loyalty"], None, []),
    ("Gift wrapping request", "Can you gift-wrap order 1090?", "maria.garcia@mail.example", Channel.CHAT,
     Priority.LOW, TicketType.TASK, ["gift"], "Support",
     [("assign", AGENT), ("reply", AGENT, "Of course, it is wrapped."), ("status", Status.SOLVED)]),
    ("Subscription charged twice", "I see two charges for March.", 1, Channel.EMAIL, Priority.HIGH,
     TicketType.COMPLAINT, ["payment", "refund"], "Billing",
     [("assign", BILLING), ("reply", BILLING, "You are right; one charge has been refunded."),
      ("customer", "Thank you, I see it now."), ("status", Status.SOLVED)]),
]

# Short cases that fill the queue (new, unassigned, or waiting).
FILLERS = [
    ("Do you ship to Cyprus?", Channel.WEB, ["shipping"]),
    ("Missing item in my parcel", Channel.EMAIL, ["delivery"]),
    ("How do I return a gift?", Channel.CHAT, ["returns"]),
    ("Product out of stock - when back?", Channel.WEB, ["stock"]),
    ("Promo code SPRING does not work", Channel.EMAIL, ["promo"]),
    ("Can I change my order?", Channel.CHAT, ["order-change"]),
    ("Damaged box, product fine", Channel.EMAIL, ["delivery"]),
    ("Invoice for company purchase", Channel.EMAIL, ["invoice"]),
    ("Account deletion request", Channel.WEB, ["privacy"]),
    ("Size chart question", Channel.SOCIAL, ["sizing"]),
    ("Tracking number not working", Channel.EMAIL, ["delivery", "tracking"]),
    ("Two-factor code not arriving", Channel.WEB, ["login"]),
    ("Warranty for headphones", Channel.PHONE, ["warranty"]),
    ("Pre-order date", Channel.CHAT, ["stock"]),
    ("Newsletter unsubscribe", Channel.EMAIL, ["privacy"]),
]


@register_demo_seeder(order=200)
def seed_tickets(demo: DemoTenant) -> None:
    from tickets.services import contact_for_email, message_add, ticket_create, ticket_update

    tenant = demo.tenant

    def requester_of(who):
        if isinstance(who, int):
            return demo.contacts[who % len(demo.contacts)] if demo.contacts else contact_for_email(
                tenant=tenant, email=f"customer{who}@mail.example")
        return contact_for_email(tenant=tenant, email=who, name=who.split("@")[0].replace(".", " ").title())

    made = 0
    for subject, body, who, channel, priority, type_, tags, team_name, steps in SCENARIOS:
        requester = requester_of(who)
        ticket = ticket_create(tenant=tenant, actor=None, via=Via.CUSTOMER, subject=subject, description=body,
                               requester=requester, priority=priority, type=type_, channel=channel, tags=tags,
                               team=demo.teams.get(team_name) if team_name else None)
        made += 1
        for step in steps:
            kind = step[0]
            if kind == "assign":
                user = demo.user(step[1])
                ticket = ticket_update(ticket=ticket, actor=user, via=Via.CONSOLE, assignee=user)
            elif kind in ("reply", "note"):
                message_add(ticket=ticket, actor=demo.user(step[1]), via=Via.CONSOLE, body=step[2],
                            public=kind == "reply")
            elif kind == "customer":
                message_add(ticket=ticket, actor=None, via=Via.CUSTOMER, author_contact=requester, body=step[1],
                            public=True, channel=channel)
            elif kind == "status":
                actor = demo.user(ticket.assignee.email) if ticket.assignee_id else demo.user(AGENT)
                ticket = ticket_update(ticket=ticket, actor=actor, via=Via.CONSOLE, status=step[1])
    for index, (subject, channel, tags) in enumerate(FILLERS):
        requester = requester_of(index)
        ticket = ticket_create(tenant=tenant, actor=None, via=Via.CUSTOMER, subject=subject, channel=channel,
                               description=f"Hello, {subject[0].lower()}{subject[1:]} Thanks!",
                               requester=requester, tags=tags,
                               priority=(Priority.LOW, Priority.NORMAL, Priority.HIGH)[index % 3])
        made += 1
        if index % 4 == 1:
            agent = demo.user(AGENT)
            ticket = ticket_update(ticket=ticket, actor=agent, via=Via.CONSOLE, assignee=agent)
            message_add(ticket=ticket, actor=agent, via=Via.CONSOLE, public=True,
                        body="Thanks for writing in! Could you send your order number?")
            ticket_update(ticket=ticket, actor=agent, via=Via.CONSOLE, status=Status.PENDING)
    demo.notes.append(f"{made} tickets with conversations")
