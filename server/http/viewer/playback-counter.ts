/**
 * What the metaverse player reports as QoE, from the media element's events alone (no DOM
 * here, so it is tested in Node): a looping VOD's wrap from its end to its start is a loop,
 * never a stall; a stall is the buffer running dry while playing — not while a seek (a
 * wrap included) is refilling it.
 */
export class PlaybackCounter {
  /** Times the buffer ran dry during playback. */
  stalls = 0;
  /** Times a looping VOD wrapped from its end back to its start. */
  loops = 0;
  #playing = false;
  #seeking = false;
  /** Media time of the last `timeupdate`, s. */
  #lastTime = 0;

  /** `playing`: playback (re)started, a seek is over. */
  playing(): void {
    this.#playing = true;
    this.#seeking = false;
  }

  /** `seeking` at media time `currentTime` (s) of a media element that loops or not. */
  seeking(loop: boolean, currentTime: number): void {
    if (loop && currentTime < 0.5 && this.#lastTime > 0.5) this.loops++;
    this.#seeking = true;
  }

  /** `timeupdate` at media time `currentTime`, s. */
  timeUpdate(currentTime: number): void {
    this.#lastTime = currentTime;
  }

  /** `waiting`: no data to play on. A stall only once playing and not seeking. */
  waiting(): void {
    if (this.#playing && !this.#seeking) this.stalls++;
  }
}
