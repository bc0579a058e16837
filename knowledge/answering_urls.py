"""Console routes of answering first (included by ``knowledge.console_urls`` in the ``kb``
namespace): articles beside a ticket, the text an agent inserts, an article from a ticket."""
from django.urls import path

from knowledge.views import answering

urlpatterns = [
    path("tickets/<int:number>/articles/", answering.TicketArticlesView.as_view(), name="ticket_articles"),
    path("tickets/<int:number>/article/new/", answering.ArticleFromTicketView.as_view(),
         name="article_from_ticket"),
    path("articles/<int:pk>/reply-text/", answering.ArticleReplyTextView.as_view(), name="article_reply_text"),
]
