import { expect } from 'chai';
import ejs from 'ejs';
import Handlebars from 'handlebars';
import nunjucks from 'nunjucks';
import pug from 'pug';
import { buildFlashView, type FlashView } from 'sessionkit';
import { escapeHtml, FLASH_STYLES, flashLocals, registerHandlebarsHelpers, registerNunjucks, renderFlash } from 'sessionkit/templates';

const ALL_LEVELS: FlashView = buildFlashView([
  { level: 'success', text: 'saved' },
  { level: 'error', text: '<script>alert(1)</script>' },
  { level: 'info', text: 'Tom & "Jerry"' },
  { level: 'warning', text: "it's <b>low</b>" },
]);

/** expectAllLevels checks one rendered page: four elements in order, texts escaped, no raw markup. */
function expectAllLevels(html: string): void {
  expect(html).to.not.include('<script>');
  expect(html).to.not.include('<b>');
  const classes = [...html.matchAll(/class="flash flash-(\w+)"/g)].map((m) => m[1]);
  expect(classes).to.deep.equal(['success', 'error', 'info', 'warning']);
  expect(html).to.include('&lt;script&gt;alert(1)&lt;/script&gt;');
  expect(html).to.include('Tom &amp; &quot;Jerry&quot;');
  expect(html).to.include('it&#39;s &lt;b&gt;low&lt;/b&gt;');
  // Escaped exactly once: an engine that escapes our output again would show &amp;lt;
  expect(html).to.not.include('&amp;lt;');
  expect(html).to.not.include('&amp;amp;');
}

describe('renderFlash', function () {
  it('renders one element per message with a class, a role and a default colour per level', function () {
    const html = renderFlash(ALL_LEVELS);
    const lines = html.split('\n');
    expect(lines).to.have.length(4);
    expect(lines[0]).to.equal(`<div class="flash flash-success" role="status" style="${FLASH_STYLES.success}">saved</div>`);
    expect(lines[1]).to.match(/^<div class="flash flash-error" role="alert" style="[^"]*color:#5f2120/);
    expect(lines[2]).to.match(/^<div class="flash flash-info" role="status" style="[^"]*#03a9f4/);
    expect(lines[3]).to.match(/^<div class="flash flash-warning" role="alert" style="[^"]*#ff9800/);
    expectAllLevels(html);
  });

  it('every level has its own colour', function () {
    const colours = Object.values(FLASH_STYLES).map((style) => /;color:(#[0-9a-f]{6})/.exec(style)?.[1]);
    expect(new Set(colours).size).to.equal(4);
  });

  it('an empty, undefined or null view renders as the empty string', function () {
    expect(renderFlash(buildFlashView([]))).to.equal('');
    expect(renderFlash(undefined)).to.equal('');
    expect(renderFlash(null)).to.equal('');
  });

  it('inlineStyles false leaves out the style attribute', function () {
    const html = renderFlash(ALL_LEVELS, { inlineStyles: false });
    expect(html).to.not.include('style=');
    expect(html.split('\n')[0]).to.equal('<div class="flash flash-success" role="status">saved</div>');
  });

  it('classPrefix renames the classes and classNames replaces them per level', function () {
    const html = renderFlash(ALL_LEVELS, { classPrefix: 'note', classNames: { error: 'alert alert-danger' }, inlineStyles: false });
    const classes = [...html.matchAll(/class="([^"]+)"/g)].map((m) => m[1]);
    expect(classes).to.deep.equal(['note note-success', 'alert alert-danger', 'note note-info', 'note note-warning']);
  });

  it('class names and styles from options are escaped too', function () {
    const html = renderFlash(buildFlashView([{ level: 'info', text: 'x' }]), {
      classNames: { info: '"><script>' },
      styles: { info: 'color:red" onmouseover="x' },
    });
    expect(html).to.not.include('<script>');
    expect(html).to.not.match(/"\s*onmouseover=/);
    expect(html).to.include('class="&quot;&gt;&lt;script&gt;"');
  });

  it('escapeHtml escapes the five characters & < > " \'', function () {
    expect(escapeHtml(`&<>"'a`)).to.equal('&amp;&lt;&gt;&quot;&#39;a');
  });
});

describe('template engines', function () {
  it('EJS renders all four levels through flashLocals with <%- renderFlash(flash) %>', function () {
    const html = ejs.render('<main><%- renderFlash(flash) %></main>', { ...flashLocals(), flash: ALL_LEVELS });
    expect(html.startsWith('<main><div class="flash flash-success"')).to.equal(true);
    expectAllLevels(html);
  });

  it('Nunjucks with autoescape renders all four levels as a global and as a filter, escaped once', function () {
    const env = registerNunjucks(new nunjucks.Environment(null, { autoescape: true }));
    for (const template of ['{{ renderFlash(flash) }}', '{{ flash | renderFlash }}']) {
      const html = env.renderString(`<main>${template}</main>`, { flash: ALL_LEVELS });
      expect(html.startsWith('<main><div class="flash flash-success"'), template).to.equal(true);
      expectAllLevels(html);
    }
  });

  it('Handlebars renders all four levels with {{flash flash}}, {{{flash flash}}} and a bare {{flash}}', function () {
    const hbs = registerHandlebarsHelpers(Handlebars.create(), { inlineStyles: false });
    for (const template of ['{{flash flash}}', '{{{flash flash}}}', '{{flash}}']) {
      const html = hbs.compile(`<main>${template}</main>`)({ flash: ALL_LEVELS });
      expect(html.startsWith('<main><div class="flash flash-success" role="status">saved</div>'), template).to.equal(true);
      expectAllLevels(html);
    }
  });

  it('Pug renders all four levels with != renderFlash(flash)', function () {
    const html = pug.render('main\n  != renderFlash(flash)', { ...flashLocals(), flash: ALL_LEVELS });
    expect(html.startsWith('<main><div class="flash flash-success"')).to.equal(true);
    expectAllLevels(html);
  });

  it('an engine given no flash at all renders nothing rather than failing', function () {
    expect(ejs.render('<%- renderFlash(locals.flash) %>', flashLocals())).to.equal('');
    expect(pug.render('div\n  != renderFlash(flash)', flashLocals())).to.equal('<div></div>');
    expect(registerHandlebarsHelpers(Handlebars.create()).compile('{{flash}}')({})).to.equal('');
    expect(registerNunjucks(new nunjucks.Environment(null, { autoescape: true })).renderString('{{ renderFlash(flash) }}', {})).to.equal('');
  });
});
