import { describe, expect, it } from 'vitest';
import { uploadName } from '../../src/workers/stages/upload.ts';

describe('the file name the backend is given', () => {
  it("keeps the client's name but takes the extension from the content", () => {
    expect(uploadName('Summer Sneaker.PNG', 'jpg')).toBe('Summer Sneaker.jpg');
    expect(uploadName('/p/123/photo', 'webp')).toBe('photo.webp');
  });

  it('drops path parts and characters that could mean something to a shell or a path', () => {
    expect(uploadName('../../etc/passwd', 'png')).toBe('passwd.png');
    expect(uploadName('a;b|c$(d).jpg', 'jpg')).toBe('a_b_c__d_.jpg');
    expect(uploadName('商品 图.jpg', 'jpg')).toBe('商品 图.jpg');
    expect(uploadName('', 'mp3')).toBe('file.mp3');
  });
});
