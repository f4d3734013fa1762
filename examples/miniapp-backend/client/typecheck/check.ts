// Type checks of the adapter against the official typings: `npx tsc -p typecheck/tsconfig.json`.
// Nothing here runs. Each `// @ts-expect-error` line must be an error: if the types ever
// accepted it, tsc would fail with "Unused '@ts-expect-error' directive".

import {
  createWx,
  PrivacyFailResult,
  PrivacyListener,
  PrivacyResolve,
  PrivacyResolveOption,
  TapEvent,
  WxPrivacy,
} from '../types/wx-privacy'

const wx2: WxPrivacy = createWx({
  baseUrl: 'http://127.0.0.1:8080',
  code: 'typecheck',
  SDKVersion: '3.3.4',
  usePrivacyCheck: true,
  officialPrompt: async ({ referrer }) => referrer === 'getUserProfile',
  listenerTimeout: 10000,
})

// ---- the listener: the documented (resolve, eventInfo) shape ----------------------------------

const listener: PrivacyListener = (resolve, eventInfo) => {
  const referrer: string = eventInfo.referrer
  resolve({ event: 'exposureAuthorization' })
  resolve({ buttonId: 'agree-btn', event: 'agree' })
  resolve({ event: 'disagree' })
  // @ts-expect-error agree needs the buttonId of the agree button
  resolve({ event: 'agree' })
  // @ts-expect-error no such event
  resolve({ event: 'accept' })
  // @ts-expect-error buttonId must be a string
  resolve({ event: 'agree', buttonId: 1 })
  // @ts-expect-error eventInfo has no errMsg
  eventInfo.errMsg
  void referrer
}
wx2.onNeedPrivacyAuthorization(listener)
// The seed's page code, as written: parameters typed from the context.
wx2.onNeedPrivacyAuthorization((resolve, eventInfo) => {
  console.log('触发本次事件的接口是:' + eventInfo.referrer)
  const keep: PrivacyResolve = resolve
  keep({ buttonId: 'agree-btn', event: 'agree' })
})
wx2.offNeedPrivacyAuthorization(listener)
wx2.offNeedPrivacyAuthorization()
// @ts-expect-error the official listener shape (res: GeneralCallbackResult) is not what the platform calls
wx2.onNeedPrivacyAuthorization((res: WechatMiniprogram.GeneralCallbackResult) => res.errMsg.length)

// Why the wrapper: the OFFICIAL declaration rejects the documented listener.
declare const officialWx: WechatMiniprogram.Wx
// @ts-expect-error OnNeedPrivacyAuthorizationCallback is (res) => void: "Target signature provides too few arguments"
officialWx.onNeedPrivacyAuthorization((resolve: PrivacyResolve, eventInfo: { referrer: string }) => {})

const agreeOption: PrivacyResolveOption = { event: 'agree', buttonId: 'agree-btn' }
// @ts-expect-error exposureAuthorization takes no buttonId
const exposureOption: PrivacyResolveOption = { event: 'exposureAuthorization', buttonId: 'agree-btn' }
void agreeOption
void exposureOption

// ---- results are the official types ---------------------------------------------------------------

wx2.getPrivacySetting({
  success: res => {
    const r: WechatMiniprogram.GetPrivacySettingSuccessCallbackResult = res
    const need: boolean = res.needAuthorization
    const name: string = res.privacyContractName
    void r, need, name
  },
  fail: () => {},
  complete: () => {},
})

async function promises(): Promise<void> {
  const setting = await wx2.getPrivacySetting()
  const s: WechatMiniprogram.GetPrivacySettingSuccessCallbackResult = setting
  // @ts-expect-error needAuthorization is a boolean
  const yes: 'yes' = setting.needAuthorization
  void s, yes

  const loc: WechatMiniprogram.GetLocationSuccessCallbackResult = await wx2.getLocation({ type: 'gcj02' })
  const lat: number = loc.latitude
  // @ts-expect-error latitude is a number
  const latText: string = loc.latitude
  void lat, latText

  const profile: WechatMiniprogram.GetUserProfileSuccessCallbackResult = await wx2.getUserProfile()
  const nick: string = profile.userInfo.nickName
  const chosen: WechatMiniprogram.ChooseLocationSuccessCallbackResult = await wx2.chooseLocation()
  const steps: WechatMiniprogram.GetWeRunDataSuccessCallbackResult = await wx2.getWeRunData()
  const clip: WechatMiniprogram.GetClipboardDataSuccessCallbackOption = await wx2.getClipboardData()
  const phone: string = (await wx2.getPhoneNumber()).code
  const address: WechatMiniprogram.ChooseAddressSuccessCallbackResult = await wx2.chooseAddress()
  const contract = await wx2.openPrivacyContract()
  const general: WechatMiniprogram.GeneralCallbackResult = await wx2.requirePrivacyAuthorize()
  void nick, chosen, steps, clip, phone, address, contract, general

  const login = await wx2.login()
  const official: WechatMiniprogram.LoginSuccessCallbackResult = login
  const openid: string = login.openid
  void official, openid

  const input = await wx2.nicknameInput()
  if (input.type === 'nickname') {
    const n: string = input.nickName
    void n
  } else {
    // @ts-expect-error a degraded (text) input has no nickName
    input.nickName
  }

  const events: TapEvent[] = await wx2.tapButton({ id: 'agree-btn1', openType: 'getPhoneNumber|agreePrivacyAuthorization' })
  for (const e of events) {
    if (e.type === 'getphonenumber') {
      const code: string = e.detail.code
      void code
    } else if (e.type === 'agreeprivacyauthorization') {
      const id: string = e.detail.buttonId
      void id
    }
  }
  // @ts-expect-error not an open-type of a privacy button
  await wx2.tapButton({ id: 'agree-btn', openType: 'share' })

  const history = await wx2.getPrivacyHistory()
  const seq: number = history.entries[0].seq
  const receipt: Record<string, unknown> = (await wx2.getConsentReceipt()).receipt
  void seq, receipt

  // A rejection is a PrivacyFailResult.
  await wx2.getWeRunData().catch((err: PrivacyFailResult) => {
    const errno: number | undefined = err.errno
    void errno
  })

  // @ts-expect-error with callbacks the call returns nothing, not a Promise
  await wx2.getLocation({ success: () => {} }).then(() => {})
}
void promises

// Callbacks get the official result and the fail result with errno.
wx2.getLocation({
  success: res => {
    const speed: number = res.speed
    void speed
  },
  fail: err => {
    const errno: number | undefined = err.errno
    const msg: string = err.errMsg
    void errno, msg
  },
})

// The seed's third page: success: console.log, fail: console.error.
wx2.getUserProfile({ success: console.log, fail: console.error })

// @ts-expect-error no such option of getLocation
wx2.getLocation({ type: 'gcj02', accuracy: 'high', highAccuracyExpireTime: 1, unknown: true })

// @ts-expect-error the success callback gets a result, not a string
wx2.getClipboardData({ success: (data: string) => data })

// Official object literals check as before.
// @ts-expect-error needAuthorization: 'yes' is not a boolean
const badSetting: WechatMiniprogram.GetPrivacySettingSuccessCallbackResult = { errMsg: 'getPrivacySetting:ok', needAuthorization: 'yes', privacyContractName: '' }
void badSetting

// @ts-expect-error the login code is a string
createWx({ code: 1 })
// @ts-expect-error officialPrompt answers a boolean
createWx({ code: 'c', officialPrompt: () => 'agree' })
