export {
  NATIVE_BACKEND_NAME, NATIVE_KERNELS, nativeBackendInfo, registerNativeBackend, type NativeBackendOptions,
} from './registerNativeBackend.js';
export { loadAddon, type NativeAddon } from './addon.js';
