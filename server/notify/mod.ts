/** Notifications: channels, silence windows, aggregation, retries and the delivery record. */
export {
  type ChannelConfig,
  type EmailChannelConfig,
  type NotificationConfig,
  readNotificationConfig,
  type SilenceWindowConfig,
  type SmsChannelConfig,
  type WebhookChannelConfig,
} from "./config.ts";
export {
  DELIVERY_STATUSES,
  type DeliveryPage,
  type DeliveryQuery,
  type DeliveryRecord,
  type DeliveryStatus,
  openDeliveryStore,
} from "./delivery_store.ts";
export {
  DEFAULT_RETRY,
  defaultSender,
  type Notifier,
  type NotifierOptions,
  openNotifier,
} from "./notifier.ts";
export { createNotificationRoutes, type NotificationRouteDeps } from "./routes.ts";
export { activeSilenceWindow, inSilenceWindow } from "./silence.ts";
