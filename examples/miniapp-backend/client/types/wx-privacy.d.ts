/// <reference types="miniprogram-api-typings" />
/**
 * Types of `wx-privacy.js`: the privacy subset of `wx` over the miniapp-backend.
 *
 * Results use the OFFICIAL types of miniprogram-api-typings@5.2.3 (`WechatMiniprogram.*`). The
 * one official type that is wrong is the listener of `wx.onNeedPrivacyAuthorization`: it is
 * declared `(res: GeneralCallbackResult) => void`, while the platform calls it with
 * `(resolve, eventInfo)` (the JSDoc of the same method says so). `PrivacyListener` below is the
 * documented shape.
 */

// ---- onNeedPrivacyAuthorization: the documented listener ----------------------------------------

/** What `resolve` takes: `buttonId` (the id of the agree button the user tapped) only with `agree`. */
export type PrivacyResolveOption =
  | { event: 'exposureAuthorization' }
  | { event: 'agree'; buttonId: string }
  | { event: 'disagree' }

/**
 * One-shot for `agree` / `disagree`; `exposureAuthorization` (the popup was shown) may come first.
 * (The adapter also returns a Promise of the backend's answer, which page code may ignore.)
 */
export type PrivacyResolve = (option: PrivacyResolveOption) => void

export interface PrivacyEventInfo {
  /** The API or component that raised the event, e.g. `"getUserProfile"`. */
  referrer: string
}

export type PrivacyListener = (resolve: PrivacyResolve, eventInfo: PrivacyEventInfo) => void

// ---- results ------------------------------------------------------------------------------------

/** A failure: the platform's errMsg, and its errno when the platform gives one (112, 104, 103). */
export interface PrivacyFailResult extends WechatMiniprogram.GeneralCallbackResult {
  errno?: number
}

/** `nicknameInput()`: `<input type="nickname">` focused; without consent a plain text input. */
export type NicknameInputResult =
  | { errMsg: string; type: 'nickname'; nickName: string }
  | { errMsg: string; type: 'text' }

/** The `detail` of each event a tap on `<button open-type=…>` delivers to the page. */
export interface TapEventDetails {
  agreeprivacyauthorization: { buttonId: string }
  getphonenumber: WechatMiniprogram.ButtonGetPhoneNumber['detail']
  /** No official event type for getRealtimePhoneNumber: the same detail as getPhoneNumber. */
  getrealtimephonenumber: WechatMiniprogram.ButtonGetPhoneNumber['detail']
  getuserinfo: WechatMiniprogram.ButtonGetUserInfo['detail']
}

export type TapEvent = {
  [K in keyof TapEventDetails]: { type: K; detail: TapEventDetails[K] }
}[keyof TapEventDetails]

export type ButtonOpenType =
  | 'agreePrivacyAuthorization'
  | 'getPhoneNumber|agreePrivacyAuthorization'
  | 'getRealtimePhoneNumber|agreePrivacyAuthorization'
  | 'getUserInfo|agreePrivacyAuthorization'

/** One entry of the user's consent ledger (`GET /api/privacy/history`). */
export interface PrivacyLedgerEntry {
  seq: number
  event: string
  at: string
  [key: string]: unknown
}

/** The success result of each API. The node tests check real responses against these types. */
export interface SuccessResults {
  login: WechatMiniprogram.LoginSuccessCallbackResult & { openid: string; expiresIn: number }
  getPrivacySetting: WechatMiniprogram.GetPrivacySettingSuccessCallbackResult
  openPrivacyContract: WechatMiniprogram.GeneralCallbackResult & { name: string; url?: string; text?: string }
  requirePrivacyAuthorize: WechatMiniprogram.GeneralCallbackResult
  getUserProfile: WechatMiniprogram.GetUserProfileSuccessCallbackResult
  getLocation: WechatMiniprogram.GetLocationSuccessCallbackResult
  chooseLocation: WechatMiniprogram.ChooseLocationSuccessCallbackResult
  getWeRunData: WechatMiniprogram.GetWeRunDataSuccessCallbackResult
  getClipboardData: WechatMiniprogram.GetClipboardDataSuccessCallbackOption
  /** No official `wx.getPhoneNumber`: the phone number button's event detail. */
  getPhoneNumber: WechatMiniprogram.ButtonGetPhoneNumber['detail']
  chooseAddress: WechatMiniprogram.ChooseAddressSuccessCallbackResult
  nicknameInput: NicknameInputResult
  clearPrivacyAuthorization: WechatMiniprogram.GeneralCallbackResult
  getPrivacyHistory: WechatMiniprogram.GeneralCallbackResult & { entries: PrivacyLedgerEntry[] }
  getConsentReceipt: WechatMiniprogram.GeneralCallbackResult & { receipt: Record<string, unknown> }
  tapButton: TapEvent[]
}

// ---- callbacks or a Promise ---------------------------------------------------------------------

export interface Callbacks<S> {
  success?: (result: S) => void
  fail?: (err: PrivacyFailResult) => void
  complete?: (res: S | PrivacyFailResult) => void
}

/** At least one of success / fail / complete: the call returns nothing. */
export type WithCallbacks<S> = Callbacks<S> &
  (
    | { success: (result: S) => void }
    | { fail: (err: PrivacyFailResult) => void }
    | { complete: (res: S | PrivacyFailResult) => void }
  )

/** None of them: the call returns a Promise (rejected with a `PrivacyFailResult`). */
export interface NoCallbacks {
  success?: undefined
  fail?: undefined
  complete?: undefined
}

type Callback = 'success' | 'fail' | 'complete'

/** An API taking `option` (official option fields are accepted, and not sent). */
export interface WxApi<S, O extends object = {}> {
  (option: O & WithCallbacks<S>): void
  (option?: O & NoCallbacks): Promise<S>
}

/** The official option of an API without its callbacks, every field optional. */
export type OfficialOption<T> = Partial<Omit<T, Callback>>

// ---- the wx ---------------------------------------------------------------------------------------

export interface WxPrivacy {
  /** POST /api/login with the code; other calls log in lazily, and again on a 401. */
  login: WxApi<SuccessResults['login']>
  getPrivacySetting: WxApi<SuccessResults['getPrivacySetting']>
  openPrivacyContract: WxApi<SuccessResults['openPrivacyContract']>
  requirePrivacyAuthorize: WxApi<SuccessResults['requirePrivacyAuthorize']>
  onNeedPrivacyAuthorization(listener: PrivacyListener): void
  /** Without a listener: removes every listener. */
  offNeedPrivacyAuthorization(listener?: PrivacyListener): void

  getUserProfile: WxApi<SuccessResults['getUserProfile'], OfficialOption<WechatMiniprogram.GetUserProfileOption>>
  getLocation: WxApi<SuccessResults['getLocation'], OfficialOption<WechatMiniprogram.GetLocationOption>>
  chooseLocation: WxApi<SuccessResults['chooseLocation'], OfficialOption<WechatMiniprogram.ChooseLocationOption>>
  getWeRunData: WxApi<SuccessResults['getWeRunData'], OfficialOption<WechatMiniprogram.GetWeRunDataOption>>
  getClipboardData: WxApi<SuccessResults['getClipboardData'], OfficialOption<WechatMiniprogram.GetClipboardDataOption>>
  getPhoneNumber: WxApi<SuccessResults['getPhoneNumber']>
  chooseAddress: WxApi<SuccessResults['chooseAddress'], OfficialOption<WechatMiniprogram.ChooseAddressOption>>
  /** `<input type="nickname">` focused. */
  nicknameInput: WxApi<SuccessResults['nicknameInput']>

  /** The platform's side of a tap on `<button id open-type>`: the events the page receives, in order. */
  tapButton: WxApi<SuccessResults['tapButton'], { id: string; openType: ButtonOpenType; /** A combined button whose own sheet the user turned down: neither consent nor action. */ actionDenied?: boolean }>
  /** The user removed the mini program from "recently used". */
  clearPrivacyAuthorization: WxApi<SuccessResults['clearPrivacyAuthorization']>
  getPrivacyHistory: WxApi<SuccessResults['getPrivacyHistory']>
  getConsentReceipt: WxApi<SuccessResults['getConsentReceipt']>
}

/** What `fetch` must do for the adapter (the global fetch of node >= 20 and browsers fits). */
export type FetchLike = (
  url: string,
  init: { method: string; headers: Record<string, string>; body?: string; signal?: unknown },
) => Promise<{ status: number; text(): Promise<string> }>

export interface CreateWxOptions {
  /** The backend's origin, e.g. `http://127.0.0.1:8080`; `''` (default) for the page's own origin. */
  baseUrl?: string
  /** The login code (1–128 of `A-Z a-z 0-9 _ -`): same code, same openid. Random when omitted. */
  code?: string
  /** The base library version reported at login (backend default `3.3.4`). */
  SDKVersion?: string
  /** app.json's `__usePrivacyCheck__` (backend default false). */
  usePrivacyCheck?: boolean
  /** The official privacy prompt, shown when no listener answers: true agrees, false refuses. */
  officialPrompt?: (info: PrivacyEventInfo) => boolean | Promise<boolean>
  /** How long a listener may take to resolve or call exposureAuthorization (ms, default 10000). */
  listenerTimeout?: number
  /** The long-poll's `timeout` (ms, default 25000; the backend caps it at 30000). */
  pollTimeout?: number
  fetch?: FetchLike
  /** Failures of requests made on the page's behalf (resolve, unanswered, prompt, the long-poll). */
  onError?: (error: unknown) => void
}

export function createWx(options: CreateWxOptions): WxPrivacy

export const GUARDED_APIS: readonly [
  'getUserProfile',
  'getLocation',
  'chooseLocation',
  'getWeRunData',
  'getClipboardData',
  'getPhoneNumber',
  'chooseAddress',
  'nicknameInput',
]
