"""The pages an email's reader links open: `/r/<token>` (the call to action, through our redirect),
`/r/<token>/pace/<next|weekly|pause>` and `/r/<token>/useful/<yes|no>`. One signed token per email names the
subscriber, campaign and step; the action is in the path.

A GET shows a page with one button and changes nothing (mail scanners and link previews open links); the button's
POST acts, with the page's CSRF token. The redirect goes to the brand's call-to-action URL and nowhere else: no URL
is read from the token, the path or the query.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from campaigns.audience import reading
from campaigns.authoring.names import greeting_name
from campaigns.errors import NotFound, TokenError
from campaigns.insight.reader_signals import MAX_COMMENT, FeedbackError, feedback_of
from campaigns.tokens import ReaderToken
from web.context import AppContext, get_context
from web.public import MAX_BODY_BYTES, local_when, path_of, render, sample_page

router = APIRouter(max_body_size=MAX_BODY_BYTES)

# Each pace link: the question its page asks, the button, and the title of the page after it.
PACE_PAGES = {
    "next": ("Send the next email now?", "Send it now", "On its way"),
    "weekly": ("Slow down to one email a week?", "One a week, please", "One email a week"),
    "pause": ("Pause this series for two weeks?", "Pause for two weeks", "Paused for two weeks"),
}


def _read(ctx: AppContext, token: str) -> ReaderToken:
    return ctx.tokens.read_reader(token)


@router.get("/r/{token}")
def call_to_action(token: str, ctx: AppContext = Depends(get_context)) -> Response:
    """The last email's button: count the click for that email, then 302 to the brand's contact page. A link that
    does not verify (old, cut short) is counted for nobody and still goes there: the reader wants to reach us."""
    try:
        data = _read(ctx, token)
    except TokenError:
        data = None
    if data is not None:
        with ctx.transaction() as s:
            reading.record_cta_click(s, data, ctx.clock())
    return RedirectResponse(ctx.brand.cta_url, status_code=302)


def _pace_context(request: Request, ctx: AppContext, data: ReaderToken, action: str) -> dict:
    with ctx.transaction() as s:
        subscriber, place = reading.reader_place(s, data)
    question, button, _ = PACE_PAGES[action]
    now = ctx.clock()
    why_not = None
    if subscriber.status != "active":
        why_not = "You are not subscribed any more, so no more emails come and there is no pace to change."
    elif not place.is_open:
        why_not = f"You have had every email of {place.title}, so there is no next one to change."
    elif action == "next" and place.status == "sending":
        why_not = "The next email is already on its way: it should arrive within a few minutes."
    when = local_when(place.next_due_at, subscriber.timezone, now) if place.next_due_at else None
    return {
        "title": question,
        "question": question,
        "button": button,
        "action": action,
        "first_name": greeting_name(subscriber.name, subscriber.first_name),
        "place": place,
        "when": when,
        "why_not": why_not,
        "preferences_path": path_of(ctx.links.preferences_url(subscriber.id), ctx),
    }


def _pace_action(action: str) -> str:
    if action not in reading.EMAIL_PACE_ACTIONS:
        raise NotFound("there is nothing at this address")
    return action


@router.get("/r/{token}/pace/{action}")
def pace_page(request: Request, token: str, action: str, ctx: AppContext = Depends(get_context)) -> Response:
    data, action = _read(ctx, token), _pace_action(action)
    if data.is_sample:
        return sample_page(request, ctx, "pace")
    return render(request, ctx, "reader_pace.html", _pace_context(request, ctx, data, action), form=True)


@router.post("/r/{token}/pace/{action}")
def pace_post(
    request: Request, token: str, action: str, csrf_token: str = Form(""), ctx: AppContext = Depends(get_context)
) -> Response:
    data, action = _read(ctx, token), _pace_action(action)
    if data.is_sample:
        return sample_page(request, ctx, "pace")
    ctx.csrf.verify(request, csrf_token, request.url.path)
    now = ctx.clock()
    with ctx.transaction() as s:
        place = reading.change_pace(s, data.subscriber_id, data.campaign_id, data.step, action, now)  # type: ignore[arg-type]
    context = _pace_context(request, ctx, data, action)
    context.update(done=True, title=PACE_PAGES[action][2], place=place)
    return render(request, ctx, "reader_pace.html", context)


def _useful_answer(answer: str) -> str:
    if answer not in reading.USEFUL_ANSWERS:
        raise NotFound("there is nothing at this address")
    return answer


def _useful_page(
    request: Request,
    ctx: AppContext,
    data: ReaderToken,
    answer: str,
    *,
    done: bool = False,
    comment: str | None = None,
    errors: dict | None = None,
    status: int = 200,
) -> Response:
    with ctx.transaction() as s:
        subscriber, place = reading.reader_place(s, data)
        kept = feedback_of(s, subscriber.id, data.campaign_id, data.step)
    other = "no" if answer == "yes" else "yes"
    return render(
        request,
        ctx,
        "reader_useful.html",
        {
            "title": "Thank you" if done else "Was this email useful?",
            "first_name": greeting_name(subscriber.name, subscriber.first_name),
            "answer": answer,
            "other_path": request.url.path.rsplit("/", 1)[0] + f"/{other}",
            "series": place.title,
            "done": done,
            "kept_comment": kept.comment if kept is not None else None,
            "comment": comment or "",
            "max_comment": MAX_COMMENT,
            "errors": errors or {},
            "preferences_path": path_of(ctx.links.preferences_url(subscriber.id), ctx),
        },
        status=status,
        form=True,
    )


@router.get("/r/{token}/useful/{answer}")
def useful_page(request: Request, token: str, answer: str, ctx: AppContext = Depends(get_context)) -> Response:
    data, answer = _read(ctx, token), _useful_answer(answer)
    if data.is_sample:
        return sample_page(request, ctx, "feedback")
    return _useful_page(request, ctx, data, answer)


@router.post("/r/{token}/useful/{answer}")
def useful_post(
    request: Request,
    token: str,
    answer: str,
    comment: str = Form(""),
    csrf_token: str = Form(""),
    ctx: AppContext = Depends(get_context),
) -> Response:
    """Keep the answer (the last one counts) and the comment, if one was written."""
    data, answer = _read(ctx, token), _useful_answer(answer)
    if data.is_sample:
        return sample_page(request, ctx, "feedback")
    ctx.csrf.verify(request, csrf_token, request.url.path)
    try:
        with ctx.transaction() as s:
            reading.answer_useful(s, data, answer, comment, ctx.clock())
    except FeedbackError as err:
        return _useful_page(request, ctx, data, answer, comment=comment, errors={err.field: str(err)}, status=400)
    return _useful_page(request, ctx, data, answer, done=True)
