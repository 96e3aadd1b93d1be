// The parts of livekit-client the widget uses. Importing them by name (not the whole namespace)
// lets the bundler drop the rest of the library from the session's chunk.
export { LoggerNames, Room, RoomEvent, Track, getLogger } from 'livekit-client';
